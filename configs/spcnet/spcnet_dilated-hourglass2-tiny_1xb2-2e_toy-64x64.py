# Tiny SPCNet (2 stacks of Dilated Hourglass Modules, 32 channels, 64x64
# input) + SIM on the generated toy MPII-16 data (no download): trains and
# tests on CPU in seconds. For smoke runs and tests, not for results.
_base_ = ['./_base_/spcnet-recipe_toy-64x64.py']

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='DilatedHourglassNet',
        num_stacks=2,
        feat_channels=32,
        stem_channels=(16, 32),
        num_downsamples=2,
        dilation=2,
        dilated_blocks=True,
        # the decoder features of every level and stack for the SIM
        out_levels=True),
    neck=dict(
        type='SelectiveInformationModule',
        in_channels=32,
        num_stacks=2,
        num_levels=4,
        out_channels=32,
        fusion='attention'),
    head=dict(
        type='SPCNetHead',
        in_channels=32,
        out_channels=16,
        num_stacks=2,
        use_fused=True,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    # toy figures' left/right limbs differ in colour: no flip (see
    # ToyPoseDataset)
    test_cfg=dict(flip_test=False, flip_mode='heatmap', shift_heatmap=True))
