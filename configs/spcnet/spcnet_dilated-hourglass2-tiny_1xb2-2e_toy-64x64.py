# Tiny SPCNet (2 stacks of Dilated Hourglass Modules, 32 channels, 64x64
# input) + SIM on the generated toy MPII-16 data (no download): trains and
# tests on CPU in seconds. For smoke runs and tests, not for results.
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py']

train_cfg = dict(max_epochs=2, val_interval=1)
param_scheduler = []
codec = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
model = dict(
    backbone=dict(num_stacks=2, feat_channels=32, stem_channels=(16, 32)),
    neck=dict(in_channels=32, num_stacks=2, out_channels=32),
    head=dict(in_channels=32, num_stacks=2, decoder=codec),
    # toy figures' left/right limbs differ in colour: no flip (see
    # ToyPoseDataset)
    test_cfg=dict(flip_test=False))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
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
data_root = '{{$MMPOSE_ATTN_CACHE:~/.cache/mmpose_attn}}/toy_mpii/'
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='ToyPoseDataset',
        data_root=data_root,
        split='train',
        num_samples=4,
        img_size=64,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='ToyPoseDataset',
        data_root=data_root,
        split='val',
        num_samples=2,
        img_size=64,
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
