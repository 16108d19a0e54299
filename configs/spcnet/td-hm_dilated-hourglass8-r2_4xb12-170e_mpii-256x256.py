# Table 1 "DHM, R=2" (Table 3 "DHM alone"): 8 stacked Dilated Hourglass
# Modules with dilation 2, heatmap of the last stack, no SIM; SPCNet's
# recipe (_base_/spcnet-recipe_mpii-256x256.py).
_base_ = ['./_base_/spcnet-recipe_mpii-256x256.py']

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='DilatedHourglassNet',
        num_stacks=8,
        num_downsamples=2,
        dilation=2,
        dilated_blocks=True,
        out_levels=False),
    head=dict(
        type='SPCNetHead',
        in_channels=256,
        out_channels=16,
        num_stacks=8,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    # one crop, no flip, as the SPCNet config (the flip and six-scale rows
    # are the *_flip-test / *_ms6-flip-test configs)
    test_cfg=dict(flip_test=False, flip_mode='heatmap', shift_heatmap=True))
