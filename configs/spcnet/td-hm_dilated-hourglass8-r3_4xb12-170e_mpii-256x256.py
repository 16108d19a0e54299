# Table 1 "DHM, R=3": 8 stacked Dilated Hourglass Modules with dilation 3,
# heatmap of the last stack, no SIM.
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py']

model = dict(
    backbone=dict(num_downsamples=2, dilated_blocks=True, dilation=3),
    neck=None,
    head=dict(use_fused=False))
