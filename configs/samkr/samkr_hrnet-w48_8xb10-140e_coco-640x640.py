# SAMKR, HRNet-W48, COCO 640x640 (Tables 3-4). Training settings are DEKR's,
# as the paper's; W48 keeps DEKR's heatmap loss (Sec. IV-A).
_base_ = [
    'mmpose::body_2d_keypoint/dekr/coco/dekr_hrnet-w48_8xb10-140e_coco-640x640.py'  # noqa: E501
]

# Restated from ../_base_/default_runtime.py (see the W32 config).
custom_imports = dict(imports=['mmpose_attn'], allow_failed_imports=False)
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='CheckpointCompatibilityHook'),
]

model = dict(
    head=dict(
        type='SAMKRHead',
        num_displacement_filters_per_keypoint=16,
        num_subspaces=8,
        num_adaptive_blocks=1))
