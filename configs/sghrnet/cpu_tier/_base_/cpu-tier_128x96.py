# Pieces of SG-HRNet's CPU tier: the paper's model, codec and augmentation at
# half the COCO resolution (128x96 input, 32x24 heatmaps; sigma and the
# segmentation radius halved with them) and a one-block, one-module HRNet
# of width 8 (8, 16, 32, 64 channels). Prefixed names, so this base merges with a full
# config.
cpu_codec = dict(
    type='SegmentationHeatmap',
    input_size=(96, 128),
    heatmap_size=(24, 32),
    sigma=1,
    radius=2.5)
cpu_model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(16, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(
                num_modules=1,
                num_blocks=(1, 1, 1),
                num_channels=(8, 16, 32)),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64))),
        # trained from scratch: no ImageNet HRNet at these widths
        init_cfg=None),
    head=dict(in_channels=8, decoder=cpu_codec))
cpu_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.65, 1.35),
        rotate_factor=45),
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
