# CPU tier of SG-HRNet on MPII: the paper-literal config (256x192, r = 5,
# bilinear fusion) at half resolution (128x96, r = 2.5 heatmap pixels) with
# a one-block HRNet of width 8, batch 16 (>= 1 iteration/s on 2 CPU
# cores, see ../README.md "Measured here"). Everything else is the paper's.
_base_ = [
    '../sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py',
    './_base_/cpu-tier_128x96.py'
]

codec = {{_base_.cpu_codec}}
model = {{_base_.cpu_model}}
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.cpu_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.cpu_val_pipeline}}))
test_dataloader = val_dataloader
