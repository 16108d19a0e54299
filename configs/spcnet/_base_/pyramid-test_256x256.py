# Table 4's "multi-scale with horizon flip" protocol, shared by SPCNet and
# the Newell baseline (and SPCNet's LSP/FLIC test configs): the person box is
# scaled by each factor and cropped again to 256x256 (PyramidTopdownAffine),
# each crop and its mirror image are predicted, and the heatmaps are averaged
# in the original image frame (MultiScaleTopdownPoseEstimator, 'recrop').
# The factors are PyraNet's (Yang et al. [30], whose protocol the paper
# follows, Sec. 4.3: `scales = torch.range(0.8, 1.3, 0.1)` in its public
# evalPyra.lua). Re-cropping keeps the input at 256x256, so no size has to
# divide down through the hourglass and one set serves every model.
# Prefixed names, so this base merges with a full config.
pyramid_scales = [0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
pyramid_test_cfg = dict(
    multiscale_mode='recrop',
    scales=pyramid_scales,
    flip_test=True,
    flip_mode='heatmap',
    shift_heatmap=True)
pyramid_val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(
        type='PyramidTopdownAffine',
        input_size=(256, 256),
        scales=pyramid_scales),
    dict(type='PackPoseInputs')
]
