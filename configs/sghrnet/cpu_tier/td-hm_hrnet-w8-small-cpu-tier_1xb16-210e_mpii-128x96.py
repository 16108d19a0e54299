# CPU tier of SG-HRNet's baseline: MMPose's HRNet and HeatmapHead (1x1 conv,
# MSE) at the size of sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_mpii-128x96.py
# (the same stages and bilinear fusion upsampling), trained and tested with
# the same recipe (./_base_/sghrnet-recipe_mpii-128x96.py), so the pair
# differs only by the Segmentation Guided Modules, the segmentation loss and
# DWA. The targets' heatmaps are MSRAHeatmap's (SegmentationHeatmap's extra
# seg_map is not used by HeatmapHead) and so is the decoding.
_base_ = [
    './_base_/sghrnet-recipe_mpii-128x96.py',
    './_base_/hrnet-w8-small-cpu-tier.py'
]

model = dict(
    backbone=dict(type='HRNet'),
    head=dict(
        type='HeatmapHead',
        in_channels=8,
        out_channels=16,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec))
