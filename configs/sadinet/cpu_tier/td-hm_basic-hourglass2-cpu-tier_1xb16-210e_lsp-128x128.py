# CPU tier of SADI-Net's baseline (the paper's basic-block hourglass, as
# ../td-hm_basic-hourglass_2xb32-210e_mpii-256x256.py: no dilated branch, no
# SE, no SFM/DLM, heatmap loss only) at the size of the SADI-Net CPU tier it
# inherits: 2 stacks of 32 channels, 128x128, batch 16.
_base_ = ['./sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(
    backbone=dict(dilated_branch=False, se_ratio=None, level_channels=None),
    head=dict(
        _delete_=True,
        type='SPCNetHead',
        in_channels=32,
        out_channels={{_base_.model.head.out_channels}},
        num_stacks=2,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))
