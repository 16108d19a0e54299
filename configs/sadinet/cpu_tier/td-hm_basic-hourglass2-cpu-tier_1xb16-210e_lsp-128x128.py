# CPU tier of SADI-Net's baseline (the paper's basic-block hourglass, as
# ../td-hm_basic-hourglass8_2xb32-210e_mpii-256x256.py: no dilated branch, no
# SE, no SFM/DLM, heatmap loss only) at the size of the SADI-Net CPU tier:
# 2 stacks of 32 channels, 128x128, batch 16, on the same recipe
# (./_base_/sadinet-recipe_lsp-128x128.py).
_base_ = ['./_base_/sadinet-recipe_lsp-128x128.py']

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='RFMHourglassNet',
        num_stacks=2,
        feat_channels=32,
        stem_channels=(16, 32),
        dilation=2,
        dilated_branch=False,
        se_ratio=None,
        level_channels=None,
        feature_grad_scale=1.0),
    head=dict(
        type='SPCNetHead',
        in_channels=32,
        out_channels=14,
        num_stacks=2,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
