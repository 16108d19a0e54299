# CPU tier of SG-HRNet on LSP (the paper reports MPII and COCO only): the
# MPII CPU tier with 14 LSP joints, trained on LSP + LSP-extended + MPII
# train mapped to LSP's joints and tested on the 1000 LSP test images with
# PCK@0.2 (torso), the protocol of SPCNet's and SADI-Net's LSP configs.
_base_ = [
    './sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_mpii-128x96.py',
    '../../_base_/datasets/lsp.py'
]

model = dict(head=dict(out_channels=14))

data_mode = 'topdown'
dataset_lsp = dict(
    type='LspDataset',
    data_root='data/lsp/',
    data_mode=data_mode,
    ann_file='annotations/lsp_train.json',
    data_prefix=dict(img=''),
    pipeline=[])
# MPII -> LSP joints: legs and arms one-to-one, MPII upper neck -> LSP neck,
# head top -> head top; pelvis and thorax have no LSP counterpart.
dataset_mpii = dict(
    type='MpiiDataset',
    data_root='data/mpii/',
    data_mode=data_mode,
    ann_file='annotations/mpii_train.json',
    data_prefix=dict(img='images/'),
    pipeline=[
        dict(
            type='KeypointConverter',
            num_keypoints=14,
            mapping=[(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (10, 6),
                     (11, 7), (12, 8), (13, 9), (14, 10), (15, 11), (8, 12),
                     (9, 13)])
    ])
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CombinedDataset',
        metainfo={{_base_.dataset_info}},
        datasets=[dataset_lsp, dataset_mpii],
        pipeline={{_base_.cpu_train_pipeline}},
        test_mode=False))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LspDataset',
        data_root='data/lsp/',
        data_mode=data_mode,
        ann_file='annotations/lsp_test.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline={{_base_.cpu_val_pipeline}}))
test_dataloader = val_dataloader

val_evaluator = dict(_delete_=True, type='TorsoPCKAccuracy', thr=0.2)
test_evaluator = val_evaluator
