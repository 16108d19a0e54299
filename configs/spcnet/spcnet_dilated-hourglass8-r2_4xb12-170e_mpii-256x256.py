# SPCNet (Xiao et al., ECAI 2020): 8 stacked Dilated Hourglass Modules (R=2)
# + Selective Information Module, MPII, paper settings (Sec. 4.1).
_base_ = ['./_base_/spcnet-recipe_mpii-256x256.py']

# model settings
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
        # the decoder features of every level and stack for the SIM
        out_levels=True),
    neck=dict(
        type='SelectiveInformationModule',
        in_channels=256,
        num_stacks=8,
        num_levels=4,
        out_channels=256,
        fusion='attention'),
    head=dict(
        type='SPCNetHead',
        in_channels=256,
        out_channels=16,
        num_stacks=8,
        use_fused=True,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    # Tables 1-3 and Table 4's "single-scale" rows: one crop, no flip (the
    # flip and six-scale rows are the *_flip-test / *_ms6-flip-test configs)
    test_cfg=dict(flip_test=False, flip_mode='heatmap', shift_heatmap=True))
