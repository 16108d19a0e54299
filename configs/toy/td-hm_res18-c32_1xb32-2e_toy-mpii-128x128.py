# Toy demo (`make demo`): a from-scratch, half-width ResNet-18 SimpleBaseline
# ("c32": 32 base channels) on procedurally rendered MPII-16 figures
# (ToyPoseDataset, no download), evaluated with MMPose's PCKh.
_base_ = ['../_base_/default_runtime.py']

max_epochs = 2
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)

optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        eta_min=1e-5,
        by_epoch=True,
        convert_to_iter_based=True),
]

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))

codec = dict(
    type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=2)

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    # half-width ResNet-18 and 64-channel deconvolutions: minutes on a CPU
    backbone=dict(
        type='ResNet', depth=18, stem_channels=32, base_channels=32),
    head=dict(
        type='HeatmapHead',
        in_channels=256,
        out_channels=16,
        deconv_out_channels=(64, 64, 64),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    # Left and right limbs differ by colour, so a flipped image is not a
    # flipped label (see ToyPoseDataset): no flip in training or testing.
    test_cfg=dict(flip_test=False))

dataset_type = 'ToyPoseDataset'
data_mode = 'topdown'  # read by MMPoseInferencer
data_root = '{{$MMPOSE_ATTN_CACHE:~/.cache/mmpose_attn}}/toy_mpii/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(
        type='RandomBBoxTransform', rotate_factor=30.,
        scale_factor=(0.8, 1.2)),
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

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        split='train',
        num_samples=3200,
        seed=0,
        img_size=128,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        split='val',
        num_samples=256,
        seed=0,
        img_size=128,
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='MpiiPCKAccuracy')
test_evaluator = val_evaluator
