# Baseline of Tables 1-4: Newell's 8-stack hourglass (4 downsamplings, plain
# bottlenecks, last-stack heatmap), trained with SPCNet's settings.
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py']

model = dict(
    backbone=dict(num_downsamples=4, dilated_blocks=False, dilation=1),
    neck=None,
    head=dict(use_fused=False))
