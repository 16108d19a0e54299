# Pieces of SPCNet's CPU tier: the paper's model, codec and augmentation at
# half resolution (128x128 input, 32x32 heatmaps, sigma halved with them),
# with 2 stacks of 32 channels. Prefixed names, so this base merges with a
# full config (MPII or LSP).
cpu_codec = dict(
    type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=1)
cpu_model = dict(
    backbone=dict(num_stacks=2, feat_channels=32, stem_channels=(16, 32)),
    neck=dict(in_channels=32, num_stacks=2, out_channels=32),
    head=dict(in_channels=32, num_stacks=2, decoder=cpu_codec))
cpu_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.75, 1.25),
        rotate_factor=60),
    dict(type='TopdownAffine', input_size=cpu_codec['input_size']),
    dict(type='GenerateTarget', encoder=cpu_codec),
    dict(type='PackPoseInputs')
]
cpu_val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=cpu_codec['input_size']),
    dict(type='PackPoseInputs')
]
