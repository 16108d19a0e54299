# SG-HRNet-W32 (Tang et al., TS 2024, Sec. 3): HRNet-W32 (./hrnet-w32.py)
# with the Segmentation Guided Modules, bilinear fusion upsampling and
# SGHeatmapHead's keypoint + segmentation loss under DWA. A config adds its
# keypoint count and the recipe's codec.
_base_ = ['./hrnet-w32.py']

model = dict(
    backbone=dict(
        type='SGHRNet',
        # Sec. 3.3: "upsampled using bilinear interpolation" (HRNet: nearest)
        extra=dict(upsample=dict(mode='bilinear', align_corners=False)),
        # Sec. 3.3: each stage's map is computed from the previous stage's
        # high-resolution features and multiplies the current stage's
        # (the *-self-gating* configs: from the features it multiplies)
        guidance='previous_stage',
        # (seg_logits, *features): SGHeatmapHead's loss reads the maps
        with_seg_logits=True),
    head=dict(
        type='SGHeatmapHead',
        in_channels=32,
        loss=dict(
            type='DWALoss',
            losses=dict(
                kpt=dict(type='KeypointMSELoss', use_target_weight=True),
                # Eq. 6 on the maps' logits: MMPose's BCELoss with
                # use_sigmoid=False is binary_cross_entropy_with_logits
                seg=dict(type='BCELoss', loss_weight=0.002)))))
