# CPU tier of SADI-Net on LSP: the paper config (RFM hourglass + SFM + DLM)
# with 2 stacks of 32 channels at 128x128, batch 16 (see ../README.md
# "Measured here"). Everything else is the paper's.
_base_ = [
    '../sadinet_rfm-hourglass8_2xb32-210e_lsp-256x256.py',
    './_base_/cpu-tier_128x128.py'
]

codec = {{_base_.cpu_codec}}
model = dict(backbone={{_base_.cpu_backbone}}, head={{_base_.cpu_head}})
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.cpu_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.cpu_val_pipeline}}))
test_dataloader = val_dataloader
