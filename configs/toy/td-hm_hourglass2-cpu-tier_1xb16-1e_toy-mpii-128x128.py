# `make demo`: SPCNet's baseline at the CPU tier (2 stacks of Newell's
# hourglass, 32 channels, 128x128), trained exactly as the SPCNet toy config
# it inherits.
_base_ = ['./spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-1e_toy-mpii-128x128.py']

model = dict(
    backbone=dict(num_downsamples=4, dilated_blocks=False, dilation=1),
    neck=None,
    head=dict(use_fused=False))
