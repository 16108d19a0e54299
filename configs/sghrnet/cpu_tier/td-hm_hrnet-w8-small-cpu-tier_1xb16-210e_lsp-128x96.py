# CPU tier of SG-HRNet's baseline: MMPose's HRNet and HeatmapHead (1x1 conv,
# MSE) at the size of sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py
# (the same stages and bilinear fusion upsampling), trained and tested with
# the same recipe (./_base_/sghrnet-recipe_lsp-128x96.py), so the pair
# differs only by the Segmentation Guided Modules, the segmentation loss and
# DWA. The targets' heatmaps are MSRAHeatmap's (SegmentationHeatmap's extra
# seg_map is not used by HeatmapHead) and so is the decoding.
_base_ = ['./_base_/sghrnet-recipe_lsp-128x96.py']

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='HRNet',
        in_channels=3,
        # the SG-HRNet CPU tier's stages and bilinear fusion upsampling
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(1, ),
                num_channels=(16, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(1, 1),
                num_channels=(8, 16)),
            stage3=dict(
                num_modules=1,
                num_branches=3,
                block='BASIC',
                num_blocks=(1, 1, 1),
                num_channels=(8, 16, 32)),
            stage4=dict(
                num_modules=1,
                num_branches=4,
                block='BASIC',
                num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64)),
            upsample=dict(mode='bilinear', align_corners=False)),
        init_cfg=None),
    head=dict(
        type='HeatmapHead',
        in_channels=8,
        out_channels=14,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
