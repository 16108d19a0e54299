# Common reference for the held-out comparisons on LSP (issue 19): MMPose's
# stock SimpleBaseline (Xiao et al., ECCV 2018; ResNet + 3 deconvolutions +
# HeatmapHead) as MMPose ships it for MPII, with ResNet-18 at the CPU tiers'
# 128x128 input (32x32 heatmaps, sigma halved with them), LSP's 14 joints,
# batch 16, the papers' augmentation (flip, scale 0.75-1.25, rotation +-60
# deg) and PCK@0.2 of the torso. MMPose's optimizer (Adam, lr 5e-4) and
# schedule (210 epochs, x0.1 at 170 and 200) are kept.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/mpii/td-hm_res50_8xb64-210e_mpii-256x256.py',  # noqa: E501
    '../_base_/datasets/lsp_mpii_combined.py'
]
custom_imports = dict(imports=['mmpose_attn'], allow_failed_imports=False)
runner_type = 'PoseAttnRunner'
# mmengine cannot merge two bases that both define runtime keys: the hooks of
# ../_base_/default_runtime.py restated (a test pins them).
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='CheckpointCompatibilityHook'),
    dict(type='DataCheckHook'),
]

codec = dict(
    type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=1)
model = dict(
    backbone=dict(
        depth=18,
        # from scratch, as the paper models of the comparison (and offline)
        init_cfg=None),
    head=dict(in_channels=512, out_channels=14, decoder=codec))
auto_scale_lr = dict(base_batch_size=16)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.75, 1.25),
        rotate_factor=60),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

# LSP (first 1000) + LSP-extended for training (no MPII), the last 1000 LSP
# images for testing (lsp2coco); compare_training --train-ann/--val-ann
# replaces both.
train_dataloader = dict(
    batch_size=16,
    dataset=dict(_base_.dataset_lsp, _delete_=True, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(_base_.lsp_test, _delete_=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.lsp_evaluator, _delete_=True)
test_evaluator = val_evaluator
