# SADI-Net on LSP (Table 2): trained on LSP + LSP-extended + MPII train
# (mapped to the 14 LSP joints), "following previous methods [37]"; tested on
# the 1000 LSP test images with PCK@0.2 (torso-normalised).
_base_ = [
    './sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py',
    '../_base_/datasets/lsp_mpii_combined.py'
]

model = dict(head=dict(out_channels=14))
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))

train_dataloader = dict(
    dataset=dict(
        _base_.lsp_mpii_train, _delete_=True,
        pipeline=_base_.train_pipeline))
val_dataloader = dict(
    dataset=dict(_base_.lsp_test, _delete_=True, pipeline=_base_.val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.lsp_evaluator, _delete_=True)
test_evaluator = val_evaluator
