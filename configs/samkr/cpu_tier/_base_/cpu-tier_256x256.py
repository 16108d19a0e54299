# Pieces of SAMKR's CPU tier: the paper's model (c = 16, g = 8), codec and
# augmentation at half resolution (256x256 input, 64x64 heatmaps; the
# Gaussian sigmas and the minimal diagonal halved with them) on a one-block,
# one-module HRNet of
# width 8 (8, 16, 32, 64 channels). Prefixed names, so this base merges with a
# full config.
cpu_codec = dict(
    type='SPR',
    input_size=(256, 256),
    heatmap_size=(64, 64),
    sigma=(2, 1),
    minimal_diagonal_length=8**0.5,
    generate_keypoint_heatmaps=True,
    decode_max_instances=30)
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
    head=dict(
        in_channels=120,
        num_heatmap_filters=8,
        # the codec's sizes; the decoder's type and heatmap matching stay
        # the full config's (on for SAMKR, off for DEKR)
        decoder=dict(
            input_size=cpu_codec['input_size'],
            heatmap_size=cpu_codec['heatmap_size'],
            sigma=cpu_codec['sigma'],
            minimal_diagonal_length=cpu_codec['minimal_diagonal_length'],
            generate_keypoint_heatmaps=True,
            decode_max_instances=cpu_codec['decode_max_instances']),
        # the pretrained rescore net would be downloaded
        rescore_cfg=None,
        # the same function, ~5x faster than mmcv's CPU kernel (README)
        deform_conv_backend='grid_sample'))
cpu_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='BottomupRandomAffine', input_size=cpu_codec['input_size']),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='GenerateTarget', encoder=cpu_codec),
    dict(type='BottomupGetHeatmapMask'),
    dict(type='PackPoseInputs'),
]
cpu_val_pipeline = [
    dict(type='LoadImage'),
    dict(
        type='BottomupResize',
        input_size=cpu_codec['input_size'],
        size_factor=32,
        resize_mode='expand'),
    dict(
        type='PackPoseInputs',
        meta_keys=('id', 'img_id', 'img_path', 'crowd_index', 'ori_shape',
                   'img_shape', 'input_size', 'input_center', 'input_scale',
                   'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
                   'skeleton_links'))
]
