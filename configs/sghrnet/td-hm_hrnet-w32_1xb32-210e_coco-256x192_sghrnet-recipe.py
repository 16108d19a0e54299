# HRNet-W32 on SG-HRNet's recipe (COCO 256x192): MMPose's HRNet-W32 and
# HeatmapHead (1x1 conv, MSE) trained and tested exactly as
# sghrnet_hrnet-w32_1xb32-210e_coco-256x192.py (the same
# _base_/sghrnet-recipe_coco-256x192.py), so the pair differs only by
# SG-HRNet's additions: the SGMs, the bilinear fusion upsampling, the
# segmentation loss and DWA. The codec's extra seg_map is unused here; its
# heatmaps and decoding are MSRAHeatmap's. MMPose's own recipe for HRNet-W32:
# mmpose::body_2d_keypoint/topdown_heatmap/coco/
# td-hm_hrnet-w32_8xb64-210e_coco-256x192.py
_base_ = ['./_base_/sghrnet-recipe_coco-256x192.py']

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
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=(32, 64)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(32, 64, 128)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=(32, 64, 128, 256))),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w32-36af842e.pth'),
    ),
    head=dict(
        type='HeatmapHead',
        in_channels=32,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
