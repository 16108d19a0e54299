# Tiny SAMKR (few-channel HRNet, 128x128, c=16, g=8 as the paper) on the
# CrowdPose samples shipped in mmpose_attn/data/mmpose_samples: CPU smoke
# runs and tests.
_base_ = [
    './samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py',
    './_base_/hrnet-tiny_128x128.py'
]

codec = {{_base_.tiny_codec}}
model = {{_base_.tiny_model}}

train_cfg = dict(max_epochs=2, val_interval=2)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=2, milestones=[1], by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=2)
default_hooks = dict(checkpoint=dict(save_best=None, interval=1))

# MMPose's own test samples, shipped inside the installed package
import importlib.util  # noqa: E402
import os.path as osp  # noqa: E402

data_root = osp.join(
    osp.dirname(importlib.util.find_spec('mmpose_attn').origin), 'data',
    'mmpose_samples', 'crowdpose', '')
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='test_crowdpose.json',
        data_prefix=dict(img=''),
        pipeline={{_base_.tiny_train_pipeline}}))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='test_crowdpose.json',
        data_prefix=dict(img=''),
        pipeline={{_base_.tiny_val_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'test_crowdpose.json')
test_evaluator = val_evaluator
