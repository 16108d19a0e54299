# SPCNet on LSP (Table 6): trained on LSP (first 1000) + LSP-extended (10000)
# + MPII train (mapped to the 14 LSP joints), "as previous methods [30, 9]",
# tested on the last 1000 LSP images with PCK@0.2 (torso-normalised).
_base_ = [
    './spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py',
    '../_base_/datasets/lsp_mpii_combined.py'
]

model = dict(head=dict(out_channels=14))

train_dataloader = dict(
    dataset=dict(
        _base_.lsp_mpii_train, _delete_=True,
        pipeline=_base_.train_pipeline))
val_dataloader = dict(
    dataset=dict(_base_.lsp_test, _delete_=True, pipeline=_base_.val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.lsp_evaluator, _delete_=True)
test_evaluator = val_evaluator
