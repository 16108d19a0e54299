# SAMKR, HRNet-W48, COCO 640x640 (Tables 3-4). Training settings are DEKR's,
# as the paper's; W48 keeps DEKR's heatmap loss (Sec. IV-A).
_base_ = [
    'mmpose::body_2d_keypoint/dekr/coco/dekr_hrnet-w48_8xb10-140e_coco-640x640.py'  # noqa: E501
]

# Restated from ../_base_/default_runtime.py (see the W32 config).
custom_imports = dict(imports=['mmpose_attn'], allow_failed_imports=False)
runner_type = 'PoseAttnRunner'
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='CheckpointCompatibilityHook'),
    dict(type='DataCheckHook'),
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
        num_adaptive_blocks=1))
