# `make demo`'s recipe: SPCNet's CPU-tier recipe
# (../../spcnet/cpu_tier/_base_/spcnet-recipe_mpii-128x128.py: 128x128, the
# paper's RMSProp at lr 1e-3, batch 16) for one epoch of 150 iterations on
# the rendered toy figures (ToyPoseDataset, no download), evaluated with
# MMPose's PCKh. Shared by the toy SPCNet and its baseline.
_base_ = ['../../spcnet/cpu_tier/_base_/spcnet-recipe_mpii-128x128.py']

train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))

# Left and right limbs differ by colour, so a flipped image is not a
# flipped label (see ToyPoseDataset): no flip in training (nor in the
# configs' test_cfg).
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.75, 1.25),
        rotate_factor=60),
    dict(type='TopdownAffine', input_size=(128, 128)),
    dict(type='GenerateTarget', encoder={{_base_.cpu_codec}}),
    dict(type='PackPoseInputs')
]

data_root = '{{$MMPOSE_ATTN_CACHE:~/.cache/mmpose_attn}}/toy_mpii/'
train_dataloader = dict(
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type='ToyPoseDataset',
        data_root=data_root,
        split='train',
        num_samples=2400,
        seed=0,
        img_size=128,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type='ToyPoseDataset',
        data_root=data_root,
        split='val',
        num_samples=256,
        seed=0,
        img_size=128,
        test_mode=True,
        pipeline={{_base_.cpu_val_pipeline}}))
test_dataloader = val_dataloader
