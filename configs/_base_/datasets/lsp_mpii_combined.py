# The LSP protocol of SPCNet (Table 6) and SADI-Net (Table 2), "following
# previous methods": trained on LSP (the first 1000 images) + LSP-extended
# (10000) + MPII train mapped to the 14 LSP joints, tested on the last 1000
# LSP images with PCK@0.2 of the torso. A config built on an MPII config
# swaps its datasets and metric for these:
#   train_dataloader = dict(dataset=dict(
#       _base_.lsp_mpii_train, _delete_=True, pipeline=...))
#   val_dataloader = dict(dataset=dict(
#       _base_.lsp_test, _delete_=True, pipeline=...))
#   val_evaluator = dict(_base_.lsp_evaluator, _delete_=True)
_base_ = ['./lsp.py']

dataset_lsp = dict(
    type='LspDataset',
    data_root='data/lsp/',
    data_mode='topdown',
    ann_file='annotations/lsp_train.json',
    data_prefix=dict(img=''),
    pipeline=[])
# MPII -> LSP joints: legs and arms one-to-one, MPII upper neck -> LSP neck,
# head top -> head top; pelvis and thorax have no LSP counterpart.
dataset_mpii = dict(
    type='MpiiDataset',
    data_root='data/mpii/',
    data_mode='topdown',
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
lsp_mpii_train = dict(
    type='CombinedDataset',
    metainfo={{_base_.dataset_info}},
    datasets=[dataset_lsp, dataset_mpii],
    test_mode=False)
lsp_test = dict(
    type='LspDataset',
    data_root='data/lsp/',
    data_mode='topdown',
    ann_file='annotations/lsp_test.json',
    data_prefix=dict(img=''),
    test_mode=True)
lsp_evaluator = dict(type='TorsoPCKAccuracy', thr=0.2)
