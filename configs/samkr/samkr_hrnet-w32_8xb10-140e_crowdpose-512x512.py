# SAMKR, HRNet-W32, CrowdPose 512x512 (Table 5). "CrowdPose training and
# testing methods follow ... COCO" (Sec. IV-D): 140 epochs with steps at 90
# and 120 instead of DEKR-CrowdPose's 300; metric as MMPose's DEKR CrowdPose
# (keypoints_crowd, no area).
_base_ = [
    'mmpose::body_2d_keypoint/dekr/crowdpose/dekr_hrnet-w32_8xb10-300e_crowdpose-512x512.py'  # noqa: E501
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
        heatmap_loss=dict(
            type='WeightAdaptiveHeatmapLoss', use_target_weight=True),
        # "follow ... COCO": COCO's displacement loss weight, not MMPose's
        # DEKR-CrowdPose 0.004 (DEKR's own repository uses one weight for
        # both datasets; see README)
        displacement_loss=dict(loss_weight=0.002)))
