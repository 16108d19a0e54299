# The MPII CPU-tier recipe (./sadinet-recipe_mpii-128x128.py) on SADI-Net's
# LSP protocol (Table 2, ../../../_base_/datasets/lsp_mpii_combined.py).
_base_ = [
    './sadinet-recipe_mpii-128x128.py',
    '../../../_base_/datasets/lsp_mpii_combined.py'
]

train_dataloader = dict(
    dataset=dict(
        _base_.lsp_mpii_train, _delete_=True,
        pipeline=_base_.cpu_train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _base_.lsp_test, _delete_=True, pipeline=_base_.cpu_val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.lsp_evaluator, _delete_=True)
test_evaluator = val_evaluator
