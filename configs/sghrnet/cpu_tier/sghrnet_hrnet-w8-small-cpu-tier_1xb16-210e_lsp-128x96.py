# CPU tier of SG-HRNet on LSP (the paper reports MPII and COCO only): the
# MPII CPU tier with 14 LSP joints, trained on LSP + LSP-extended + MPII
# train mapped to LSP's joints and tested on the 1000 LSP test images with
# PCK@0.2 (torso), the protocol of SPCNet's and SADI-Net's LSP configs.
_base_ = [
    './_base_/sghrnet-recipe_lsp-128x96.py',
    './_base_/hrnet-w8-small-cpu-tier.py'
]

model = dict(
    backbone=dict(
        type='SGHRNet', guidance='previous_stage', with_seg_logits=True),
    head=dict(
        type='SGHeatmapHead',
        in_channels=8,
        out_channels=14,
        loss=dict(
            type='DWALoss',
            losses=dict(
                kpt=dict(type='KeypointMSELoss', use_target_weight=True),
                seg=dict(type='BCELoss', loss_weight=0.002))),
        decoder=_base_.codec))
