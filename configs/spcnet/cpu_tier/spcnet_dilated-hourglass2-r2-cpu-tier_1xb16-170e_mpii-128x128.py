# CPU tier of SPCNet on MPII: the paper config with 2 DHM stacks of 32
# channels at 128x128, batch 16 (>= 1 iteration/s on 2 CPU cores, see
# ../README.md "Measured here"). Everything else is the paper's.
_base_ = [
    '../spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py',
    './_base_/cpu-tier_128x128.py'
]

codec = {{_base_.cpu_codec}}
model = {{_base_.cpu_model}}
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.cpu_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.cpu_val_pipeline}}))
test_dataloader = val_dataloader
