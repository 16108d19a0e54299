# SPCNet's recipe on MPII (../../_base_/spcnet-recipe_mpii-256x256.py) at the
# CPU tier's size (./cpu-tier_128x128.py: 128x128 input, 32x32 heatmaps,
# sigma halved with them), batch 16. The CPU-tier baselines write out their
# model on it.
_base_ = [
    '../../_base_/spcnet-recipe_mpii-256x256.py', './cpu-tier_128x128.py'
]

codec = {{_base_.cpu_codec}}
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.cpu_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.cpu_val_pipeline}}))
test_dataloader = val_dataloader
