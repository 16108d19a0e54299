# Mix and match: SPCNet's Selective Information Module (Sec. 3.3) on
# MMPose's HRNet-W32, MPII, MMPose's recipe otherwise. HRNet returns its four
# branches (strides 4, 8, 16, 32: the SIM's "levels", one "stack"); the SIM
# fuses them into F at stride 4, which MMPose's HeatmapHead reads (the last
# entry of the neck's output).
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

model = dict(
    backbone=dict(extra=dict(stage4=dict(multiscale_output=True))),
    neck=dict(
        type='SelectiveInformationModule',
        in_channels=(32, 64, 128, 256),
        num_stacks=1,
        num_levels=4,
        out_channels=256),
    head=dict(in_channels=256))
