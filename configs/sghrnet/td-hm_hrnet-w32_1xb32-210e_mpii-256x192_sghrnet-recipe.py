# HRNet-W32 on SG-HRNet's recipe (MPII 256x192): MMPose's HRNet-W32 and
# HeatmapHead (1x1 conv, MSE) trained and tested exactly as
# sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py (the same
# _base_/sghrnet-recipe_mpii-256x192.py), so the pair differs only by
# SG-HRNet's additions: the SGMs, the bilinear fusion upsampling, the
# segmentation loss and DWA. The codec's extra seg_map is unused here; its
# heatmaps and decoding are MSRAHeatmap's. MMPose's own recipe for HRNet-W32:
# mmpose::body_2d_keypoint/topdown_heatmap/mpii/
# td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py
_base_ = [
    './_base_/sghrnet-recipe_mpii-256x192.py',
    './_base_/hrnet-w32.py'
]

model = dict(
    backbone=dict(type='HRNet'),
    head=dict(
        type='HeatmapHead',
        in_channels=32,
        out_channels=16,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec))
