# CPU tier of SPCNet's baseline (Newell's stacked hourglass, as
# ../td-hm_hourglass8_4xb12-170e_mpii-256x256.py) at the size of the SPCNet
# CPU tier it inherits: 2 stacks of 32 channels, 128x128, batch 16.
_base_ = ['./spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py']

model = dict(
    backbone=dict(num_downsamples=4, dilated_blocks=False, dilation=1),
    neck=None,
    head=dict(use_fused=False))
