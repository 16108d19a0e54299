# CPU tier of Table 3's "RFM" row (../../td-hm_rfm-hourglass_*): the RFM
# hourglass of the SADI-Net CPU tier it inherits (2 stacks of 32 channels,
# 128x128, batch 16) with the heatmap loss only: no SFM, no DLM.
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(
    backbone=dict(level_channels=None),
    head=dict(
        _delete_=True,
        type='SPCNetHead',
        in_channels=32,
        out_channels={{_base_.model.head.out_channels}},
        num_stacks=2,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))
