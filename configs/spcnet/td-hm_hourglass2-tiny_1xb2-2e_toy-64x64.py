# Tiny baseline (2 stacks of Newell's hourglass, 32 channels, 64x64 input) on
# the generated toy MPII-16 data: CPU smoke runs and tests.
_base_ = ['./spcnet_dilated-hourglass2-tiny_1xb2-2e_toy-64x64.py']

model = dict(
    backbone=dict(num_downsamples=4, dilated_blocks=False, dilation=1),
    neck=None,
    head=dict(use_fused=False))
