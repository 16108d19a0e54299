# Table 1 "DHM, R=2" (Table 3 "DHM alone"): 8 stacked Dilated Hourglass
# Modules with dilation 2, heatmap of the last stack, no SIM.
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py']

model = dict(
    backbone=dict(num_downsamples=2, dilated_blocks=True, dilation=2),
    neck=None,
    head=dict(use_fused=False))
