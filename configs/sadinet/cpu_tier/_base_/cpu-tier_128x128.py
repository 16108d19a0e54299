# Pieces of SADI-Net's CPU tier: the paper's model, codec and augmentation at
# half resolution (128x128 input, 32x32 heatmaps, sigma halved with them),
# with 2 RFM hourglass stacks of 32 channels and every SFM width divided by 8.
# Prefixed names, so this base merges with a full config (MPII or LSP).
cpu_codec = dict(
    type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=1)
cpu_backbone = dict(
    num_stacks=2,
    feat_channels=32,
    stem_channels=(16, 32),
    level_channels=(8, 16, 32, 64))
cpu_head = dict(
    in_channels=32,
    num_stacks=2,
    sfm=dict(
        in_channels=(8, 16, 32, 64),
        mid_channels=32,
        head_channels=(16, 32, 64, 128),
        out_channels=256),
    decoder=cpu_codec)
cpu_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.5, 1.5),
        rotate_factor=80),
    dict(type='TopdownAffine', input_size=cpu_codec['input_size']),
    dict(type='GenerateTarget', encoder=cpu_codec),
    dict(type='PackPoseInputs', pack_transformed=True)
]
cpu_val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=cpu_codec['input_size']),
    dict(type='PackPoseInputs')
]
