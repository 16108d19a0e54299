# Table 3 "RFM": the 8-stack hourglass built from Receptive Fortified Modules,
# heatmap loss only (no SFM, no DLM), on SADI-Net's recipe
# (_base_/sadinet-recipe_mpii-256x256.py).
_base_ = ['./_base_/sadinet-recipe_mpii-256x256.py']

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='RFMHourglassNet',
        num_stacks=8,
        dilation=2,
        se_ratio=16,
        level_channels=None),
    head=dict(
        type='SPCNetHead',
        in_channels=256,
        out_channels=16,
        num_stacks=8,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
