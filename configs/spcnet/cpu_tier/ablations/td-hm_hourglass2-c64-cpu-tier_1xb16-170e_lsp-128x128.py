# Width check of the CPU tier (issue 19): the Newell baseline of the LSP
# CPU tier with 64 feature channels instead of 32, nothing else.
_base_ = ['../td-hm_hourglass2-cpu-tier_1xb16-170e_lsp-128x128.py']

model = dict(backbone=dict(feat_channels=64), head=dict(in_channels=64))
