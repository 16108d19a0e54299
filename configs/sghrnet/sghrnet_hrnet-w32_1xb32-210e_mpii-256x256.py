# SG-HRNet (Tang et al., TS 2024), MPII 256x256, r = 5: Table 1 and the r = 5
# row of Table 3 (PCKh@0.5 on MPII val). Training as the COCO config
# (Sec. 4.3 gives one recipe); input 256x256, as HRNet's MPII setting.
_base_ = ['./sghrnet_hrnet-w32_1xb32-210e_coco-256x192.py']

default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))

codec = dict(
    type='SegmentationHeatmap',
    input_size=(256, 256),
    heatmap_size=(64, 64),
    sigma=2,
    radius=5)

model = dict(head=dict(out_channels=16, decoder=codec))

dataset_type = 'MpiiDataset'
data_root = 'data/mpii/'

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
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mpii_train.json',
        data_prefix=dict(img='images/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mpii_val.json',
        bbox_file=None,
        headbox_file='data/mpii/annotations/mpii_gt_val.mat',
        data_prefix=dict(img='images/'),
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(_delete_=True, type='MpiiPCKAccuracy')
test_evaluator = val_evaluator
