# The MPII CPU-tier recipe (./sghrnet-recipe_mpii-128x96.py) on the LSP
# protocol of the SPCNet and SADI-Net LSP configs (the paper has no LSP
# experiment): LSP + LSP-extended + MPII train mapped to the 14 LSP joints,
# the 1000 LSP test images, PCK@0.2 of the torso.
_base_ = [
    './sghrnet-recipe_mpii-128x96.py',
    '../../../_base_/datasets/lsp_mpii_combined.py'
]

train_dataloader = dict(
    dataset=dict(
        _base_.lsp_mpii_train, _delete_=True,
        pipeline=_base_.train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _base_.lsp_test, _delete_=True, pipeline=_base_.val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.lsp_evaluator, _delete_=True)
test_evaluator = val_evaluator
