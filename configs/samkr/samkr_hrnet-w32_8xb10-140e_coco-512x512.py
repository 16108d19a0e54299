# SAMKR, HRNet-W32, COCO 512x512: the paper's 8_SAMKR_16 (Tables 1-4).
# DEKR's config already has the paper's training settings (Adam lr 1e-3,
# x0.1 at epochs 90 and 120, 140 epochs; rotation +-30 deg, scale 0.75-1.5,
# translation 0.2 x 200 px = +-40, flip); only the head differs.
_base_ = [
    'mmpose::body_2d_keypoint/dekr/coco/dekr_hrnet-w32_8xb10-140e_coco-512x512.py'  # noqa: E501
]

# mmengine cannot merge two bases that both define runtime keys, so the two
# additions of ../_base_/default_runtime.py are restated (a test pins them).
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
        num_displacement_filters_per_keypoint=16,  # c
        num_subspaces=8,  # g (s = c / g = 2)
        num_adaptive_blocks=1,
        # W32 uses SWAHR's weight-adaptive heatmap loss (Sec. IV-A).
        heatmap_loss=dict(
            type='WeightAdaptiveHeatmapLoss', use_target_weight=True)))
