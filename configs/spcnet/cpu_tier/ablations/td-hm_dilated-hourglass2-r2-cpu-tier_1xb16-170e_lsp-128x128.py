# CPU tier of Table 1's "DHM, R=2" (Table 3's "DHM alone",
# ../../td-hm_dilated-hourglass8-r2_*): the CPU-tier SPCNet's dilated
# hourglass (2 halvings, dilation 2) without the SIM, heatmap of the last
# stack, on the baseline's recipe.
_base_ = ['../td-hm_hourglass2-cpu-tier_1xb16-170e_lsp-128x128.py']

model = dict(
    backbone=dict(num_downsamples=2, dilation=2, dilated_blocks=True))
