# Tiny SG-HRNet (one block per branch, 8-64 channels, 128x96 input) on the COCO
# samples shipped in mmpose_attn/data/mmpose_samples: CPU
# smoke runs, tests and the visualization demo. sigma/radius are scaled down
# with the 32x24 heatmap.
_base_ = ['./sghrnet_hrnet-w32_1xb32-210e_coco-256x192.py']

train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=1, milestones=[1], by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=2)
default_hooks = dict(checkpoint=dict(save_best=None, interval=1))

codec = dict(
    type='SegmentationHeatmap',
    input_size=(96, 128),
    heatmap_size=(24, 32),
    sigma=1,
    radius=2.5)

model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(16, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(
                num_modules=1, num_blocks=(1, 1, 1),
                num_channels=(8, 16, 32)),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64))),
        init_cfg=None),
    head=dict(in_channels=8, decoder=codec))

# MMPose's own test samples, shipped inside the installed package
import importlib.util  # noqa: E402
import os.path as osp  # noqa: E402

data_root = osp.join(
    osp.dirname(importlib.util.find_spec('mmpose_attn').origin), 'data',
    'mmpose_samples', 'coco', '')
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.65, 1.35),
        rotate_factor=45),
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
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='test_coco.json',
        data_prefix=dict(img=''),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='test_coco.json',
        bbox_file=data_root + 'test_coco_det_AP_H_56.json',
        data_prefix=dict(img=''),
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'test_coco.json')
test_evaluator = val_evaluator
