# SAMKR, HRNet-W48, CrowdPose 640x640 (Table 5): COCO schedule (Sec. IV-D),
# DEKR's heatmap loss, metric as MMPose's DEKR CrowdPose.
_base_ = [
    'mmpose::body_2d_keypoint/dekr/crowdpose/dekr_hrnet-w48_8xb5-300e_crowdpose-640x640.py'  # noqa: E501
]

# Restated from ../_base_/default_runtime.py (see the COCO W32 config).
custom_imports = dict(imports=['mmpose_attn'], allow_failed_imports=False)
runner_type = 'PoseAttnRunner'
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='CheckpointCompatibilityHook'),
    dict(type='DataCheckHook'),
]

train_cfg = dict(max_epochs=140, val_interval=10)
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),  # warm-up
    dict(
        type='MultiStepLR',
        begin=0,
        end=140,
        milestones=[90, 120],
        gamma=0.1,
        by_epoch=True)
]

model = dict(
    head=dict(
        type='SAMKRHead',
        # Sec. I: SAMKR "follows the method of using the keypoint heatmap to
        # match the regression pose": DEKR's heatmap matching (TEST.MATCH_HMP
        # with DEKR's MAX_ABSORB_DISTANCE 75 and 30 peaks per keypoint)
        decoder=dict(
            type='SPRHeatmapMatching',
            match_heatmap=True,
            match_max_distance=75,
            match_num_peaks=30),
        num_displacement_filters_per_keypoint=16,
        num_subspaces=8,
        num_adaptive_blocks=1,
        # COCO's displacement loss weight (see the W32 CrowdPose config)
        displacement_loss=dict(loss_weight=0.002)))
