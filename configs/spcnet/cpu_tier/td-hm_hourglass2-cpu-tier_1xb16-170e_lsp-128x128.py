# CPU tier of SPCNet's baseline (Newell's stacked hourglass, as
# ../td-hm_hourglass8_4xb12-170e_mpii-256x256.py) at the size of the SPCNet
# CPU tier: 2 stacks of 32 channels, 128x128, batch 16, on the same recipe
# (./_base_/spcnet-recipe_lsp-128x128.py).
_base_ = ['./_base_/spcnet-recipe_lsp-128x128.py']

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
        num_downsamples=4,
        dilation=1,
        dilated_blocks=False,
        out_levels=False),
    head=dict(
        type='SPCNetHead',
        in_channels=32,
        out_channels=14,
        num_stacks=2,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=False, flip_mode='heatmap', shift_heatmap=True))
