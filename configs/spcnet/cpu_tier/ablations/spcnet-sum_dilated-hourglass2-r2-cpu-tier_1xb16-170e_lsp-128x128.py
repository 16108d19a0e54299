# CPU tier of Table 2's "Baseline+IC+Sum", on SPCNet's dilated hourglass:
# the CPU-tier SPCNet with Information Collection followed by the
# element-wise sum of X1..X4 instead of Information Distribution.
_base_ = ['../spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py']

model = dict(neck=dict(fusion='sum'))
