# CPU tier of SG-HRNet on LSP (the paper reports MPII and COCO only): the
# MPII CPU tier with 14 LSP joints, trained on LSP + LSP-extended + MPII
# train mapped to LSP's joints and tested on the 1000 LSP test images with
# PCK@0.2 (torso), the protocol of SPCNet's and SADI-Net's LSP configs.
_base_ = ['./_base_/sghrnet-recipe_lsp-128x96.py']

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
        out_channels=14,
        loss=dict(
            type='DWALoss',
            losses=dict(
                kpt=dict(type='KeypointMSELoss', use_target_weight=True),
                seg=dict(type='BCELoss', loss_weight=0.002))),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
