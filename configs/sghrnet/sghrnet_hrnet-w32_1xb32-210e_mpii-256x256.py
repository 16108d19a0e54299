# SG-HRNet on MPII at HRNet's MPII input, 256x256, with HRNet's nearest
# fusion upsampling: the paper's model and recipe otherwise. Not a paper row
# (the paper states 256x192); it compares with HRNet-W32 at HRNet's MPII
# size. Its same-recipe HRNet:
# td-hm_hrnet-w32_1xb32-210e_mpii-256x256_sghrnet-recipe.py
_base_ = ['./_base_/sghrnet-recipe_mpii-256x256.py']

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='SGHRNet',
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
                num_channels=(32, 64, 128, 256)),
            # HRNet's nearest fusion upsampling (the paper: bilinear)
            upsample=dict(mode='nearest', align_corners=None)),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w32-36af842e.pth'),
        # Sec. 3.3: each stage's map is computed from the previous stage's
        # high-resolution features and multiplies the current stage's
        # (the *-self-gating* configs: from the features it multiplies)
        guidance='previous_stage',
        # (seg_logits, *features): SGHeatmapHead's loss reads the maps
        with_seg_logits=True),
    head=dict(
        type='SGHeatmapHead',
        in_channels=32,
        out_channels=16,
        loss=dict(
            type='DWALoss',
            losses=dict(
                kpt=dict(type='KeypointMSELoss', use_target_weight=True),
                # Eq. 6 on the maps' logits: MMPose's BCELoss with
                # use_sigmoid=False is binary_cross_entropy_with_logits
                seg=dict(type='BCELoss', loss_weight=0.002))),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
