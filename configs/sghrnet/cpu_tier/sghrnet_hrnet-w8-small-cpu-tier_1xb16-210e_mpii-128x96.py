# CPU tier of SG-HRNet on MPII: the paper-literal config
# (../sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py: r = 5, bilinear fusion)
# at half resolution (128x96, r = 2.5 heatmap pixels) with a one-block HRNet
# of width 8, batch 16 (>= 1 iteration/s on 2 CPU cores, see ../README.md
# "Measured here"). Everything else is the paper's.
_base_ = ['./_base_/sghrnet-recipe_mpii-128x96.py']

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
        # one block per branch and one module per stage, width 8
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
            # Sec. 3.3: "upsampled using bilinear interpolation"
            upsample=dict(mode='bilinear', align_corners=False)),
        # trained from scratch: no ImageNet HRNet at these widths
        init_cfg=None,
        guidance='previous_stage',
        with_seg_logits=True),
    head=dict(
        type='SGHeatmapHead',
        in_channels=8,
        out_channels=16,
        loss=dict(
            type='DWALoss',
            losses=dict(
                kpt=dict(type='KeypointMSELoss', use_target_weight=True),
                seg=dict(type='BCELoss', loss_weight=0.002))),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
