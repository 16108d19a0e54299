# CPU tier of SG-HRNet on MPII: the paper-literal config
# (../sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py: r = 5, bilinear fusion)
# at half resolution (128x96, r = 2.5 heatmap pixels) with a one-block HRNet
# of width 8, batch 16 (>= 1 iteration/s on 2 CPU cores, see ../README.md
# "Measured here"). Everything else is the paper's.
_base_ = [
    './_base_/sghrnet-recipe_mpii-128x96.py',
    './_base_/hrnet-w8-small-cpu-tier.py'
]

model = dict(
    backbone=dict(
        type='SGHRNet', guidance='previous_stage', with_seg_logits=True),
    head=dict(
        type='SGHeatmapHead',
        in_channels=8,
        out_channels=16,
        loss=dict(
            type='DWALoss',
            losses=dict(
                kpt=dict(type='KeypointMSELoss', use_target_weight=True),
                seg=dict(type='BCELoss', loss_weight=0.002))),
        decoder=_base_.codec))
