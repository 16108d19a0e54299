# CPU tier of SAMKR on COCO: the paper config (c = 16, g = 8) with a
# one-block HRNet of width 8 at 256x256, batch 16 (>= 1 iteration/s on 2
# CPU cores, see ../README.md "Measured here"). Everything else is the
# paper's.
_base_ = [
    '../samkr_hrnet-w32_8xb10-140e_coco-512x512.py',
    './_base_/cpu-tier_256x256.py'
]

codec = {{_base_.cpu_codec}}
model = {{_base_.cpu_model}}
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.cpu_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.cpu_val_pipeline}}))
test_dataloader = val_dataloader
