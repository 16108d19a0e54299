# `make demo`: SPCNet's CPU tier (2 Dilated Hourglass stacks of 32 channels
# + SIM, 128x128, the paper's RMSProp at lr 1e-3) trained for one epoch of
# 150 iterations on the rendered toy figures (ToyPoseDataset, no download),
# evaluated with MMPose's PCKh. Its baseline: the td-hm_hourglass2 config.
_base_ = ['./_base_/spcnet-recipe_toy-mpii-128x128.py']

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
    # no flip (see ./_base_/spcnet-recipe_toy-mpii-128x128.py)
    test_cfg=dict(flip_test=False, flip_mode='heatmap', shift_heatmap=True))
