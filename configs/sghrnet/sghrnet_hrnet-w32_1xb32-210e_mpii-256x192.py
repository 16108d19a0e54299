# SG-HRNet (Tang et al., TS 2024), MPII, paper-literal: Table 1 and the r = 5
# row of Table 3 (PCKh@0.5 on MPII val) with the paper's only stated input,
# 256x192 (Sec. 3.3, 4.3), and bilinear fusion upsampling (Sec. 3.3).
# Model, codec, pipelines and training are the COCO config's (Sec. 4.3 gives
# one recipe); only the data, the 16 MPII joints and the metric differ.
_base_ = ['./sghrnet_hrnet-w32_1xb32-210e_coco-256x192.py']

default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))

model = dict(head=dict(out_channels=16))

dataset_type = 'MpiiDataset'
data_root = 'data/mpii/'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mpii_train.json',
        data_prefix=dict(img='images/')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mpii_val.json',
        bbox_file=None,
        headbox_file='data/mpii/annotations/mpii_gt_val.mat',
        data_prefix=dict(img='images/')))
test_dataloader = val_dataloader

val_evaluator = dict(_delete_=True, type='MpiiPCKAccuracy')
test_evaluator = val_evaluator
