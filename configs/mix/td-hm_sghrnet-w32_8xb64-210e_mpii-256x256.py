# Mix and match: SG-HRNet's backbone (HRNet-W32 with Segmentation Guided
# Modules, Sec. 3.2-3.3) under MMPose's stock HeatmapHead, MMPose's HRNet-W32
# recipe on MPII otherwise. With with_seg_logits=False (its default) SGHRNet
# returns exactly HRNet's tuple, the stride-4 features guided by the final
# map, which HeatmapHead reads (the last entry); the maps get no segmentation
# loss (that is SGHeatmapHead's), so they act as learned gates only. The
# HRNet ImageNet weights of the recipe load into it (the SGMs keep their
# initialisation).
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/mpii/td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py'  # noqa: E501
]

# mmengine cannot merge two bases that both define runtime keys, so the
# additions of ../_base_/default_runtime.py are restated (a test pins them).
custom_imports = dict(imports=['mmpose_attn'], allow_failed_imports=False)
runner_type = 'PoseAttnRunner'
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='CheckpointCompatibilityHook'),
    dict(type='DataCheckHook'),
]

# MMPose's file, named 8xb64 with auto_scale_lr for 512 = 8 x 64, trains
# with batch 16: the batch its name and learning rate are for
train_dataloader = dict(batch_size=64)

model = dict(backbone=dict(type='SGHRNet'))
