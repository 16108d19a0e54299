# DEKR baseline built from SAMKRHead with the attention off: DEKR's c=15
# filters per keypoint, its two adaptive blocks and its heatmap loss. The
# state dict is MMPose's DEKRHead's, so MMPose's DEKR checkpoints load
# unchanged; the deformable convolutions run on mmcv's kernel where mmcv was
# compiled for the device (the CPU here) and on torchvision's elsewhere (a
# GPU), so this baseline also runs on a GPU without CUDA-compiled mmcv.
_base_ = [
    'mmpose::body_2d_keypoint/dekr/coco/dekr_hrnet-w48_8xb10-140e_coco-640x640.py'  # noqa: E501
]

# Restated from ../_base_/default_runtime.py (see the SAMKR W32 config).
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
        num_displacement_filters_per_keypoint=15,
        num_adaptive_blocks=2,
        attention_cfg=None))
