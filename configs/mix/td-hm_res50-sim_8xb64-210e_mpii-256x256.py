# Mix and match: SPCNet's Selective Information Module (Sec. 3.3) on
# MMPose's ResNet-50 SimpleBaseline, MPII, MMPose's recipe otherwise. The SIM
# fuses ResNet's four stages (strides 4, 8, 16, 32: its "levels", one
# "stack") into F at stride 4, which MMPose's HeatmapHead reads (the last
# entry of the neck's output) without deconvolutions.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/mpii/td-hm_res50_8xb64-210e_mpii-256x256.py'  # noqa: E501
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

model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3)),
    neck=dict(
        type='SelectiveInformationModule',
        in_channels=(256, 512, 1024, 2048),
        num_stacks=1,
        num_levels=4,
        out_channels=256),
    head=dict(in_channels=256, deconv_out_channels=None))
