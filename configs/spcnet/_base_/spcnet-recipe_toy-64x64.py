# SPCNet's recipe (./spcnet-recipe_mpii-256x256.py) shrunk for tests and
# smoke runs: 64x64 inputs, 2 epochs of the generated toy MPII-16 data (no
# download), no flip. Shared by the tiny SPCNet and its tiny baseline.
_base_ = ['./spcnet-recipe_mpii-256x256.py']

train_cfg = dict(max_epochs=2, val_interval=1)
param_scheduler = []
codec = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
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
