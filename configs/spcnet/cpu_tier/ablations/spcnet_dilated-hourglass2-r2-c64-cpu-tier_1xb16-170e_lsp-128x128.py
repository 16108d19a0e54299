# Width check of the CPU tier (issue 19): SPCNet on the LSP CPU tier with
# 64 feature channels instead of 32 (hourglass, SIM and head), nothing else.
_base_ = ['../spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py']

model = dict(
    backbone=dict(feat_channels=64),
    neck=dict(in_channels=64, out_channels=64),
    head=dict(in_channels=64))
