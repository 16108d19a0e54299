# CPU tier of SG-HRNet's baseline: the same HRNet without the Segmentation
# Guided Modules and a plain heatmap head with the MSE loss alone, trained
# with SG-HRNet's recipe at the size of the SG-HRNet CPU tier it inherits.
# The targets' heatmaps are MSRAHeatmap's (SegmentationHeatmap's extra
# seg_map is not used by HeatmapHead) and so is the decoding.
_base_ = ['./sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py']

model = dict(
    # MMPose's HRNet with the SG-HRNet CPU tier's stages and fusion
    # upsampling, without SGHRNet's own settings
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=_base_.model.backbone.extra,
        init_cfg=None),
    head=dict(
        _delete_=True,
        type='HeatmapHead',
        in_channels=8,
        out_channels=14,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.cpu_codec}}))
