# Width check of the CPU tier (issue 19): SG-HRNet on the LSP CPU
# tier with every branch twice as wide (16/32/64/128), nothing else.
_base_ = ['../sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py']

model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_channels=(32, )),
            stage2=dict(num_channels=(16, 32)),
            stage3=dict(num_channels=(16, 32, 64)),
            stage4=dict(num_channels=(16, 32, 64, 128)))),
    head=dict(in_channels=16))
