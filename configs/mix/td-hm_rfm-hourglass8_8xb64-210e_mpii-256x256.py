# Mix and match: SADI-Net's backbone, 8 stacked hourglasses of Receptive
# Fortified Modules (Sec. III-B), under MMPose's stock HeatmapHead, which
# reads the last stack's features (the last entry of the backbone's output;
# no F_1..F_N: level_channels=None); MMPose's hourglass recipe on MPII
# otherwise. Without intermediate supervision or the SFM/DLM, unlike
# ../sadinet/td-hm_rfm-hourglass8_2xb32-210e_mpii-256x256.py.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/mpii/td-hm_hourglass52_8xb64-210e_mpii-256x256.py'  # noqa: E501
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
    backbone=dict(
        _delete_=True,
        type='RFMHourglassNet',
        num_stacks=8,
        dilation=2,
        se_ratio=16,
        level_channels=None),
    head=dict(
        _delete_=True,
        type='HeatmapHead',
        in_channels=256,
        out_channels=16,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))
