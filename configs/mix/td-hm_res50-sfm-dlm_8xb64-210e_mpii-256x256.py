# Mix and match: SADI-Net's Spatial Fusion Module and Distribution Learning
# Module (Sec. III-C to III-E) on MMPose's ResNet-50 SimpleBaseline, MPII,
# MMPose's recipe otherwise. ResNet returns its four stages (strides 4, 8,
# 16, 32), which the DLMHead reads by position: all four are F_1..F_4 for the
# SFM, the last one also feeds SimpleBaseline's deconvolutions and 1x1 conv,
# whose heatmap is H_1 (the one decoded at inference). Loss of Eq. 8 with
# chi = sigma_hat, coupled (the SADI-Net default).
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
    head=dict(
        _delete_=True,
        type='DLMHead',
        in_channels=2048,
        out_channels=16,
        num_stacks=1,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        sfm=dict(
            type='SpatialFusionModule',
            in_channels=(256, 512, 1024, 2048),
            mid_channels=256,
            head_channels=(128, 256, 512, 1024),
            out_channels=2048),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))

# MMPose's pipeline, packing the transformed keypoints the DLM takes mu_g of
# Eq. 4 from
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_prob=0),
    dict(type='TopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackPoseInputs', pack_transformed=True)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
