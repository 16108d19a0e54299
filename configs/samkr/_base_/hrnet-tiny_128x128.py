# Pieces of the tiny SAMKR variants (CPU smoke runs and tests): a few-channel
# HRNet at 128x128. Prefixed names, so this base merges with a full config.
tiny_codec = dict(
    # SPR; heatmap matching as the full config says (on for SAMKR)
    type='SPRHeatmapMatching',
    input_size=(128, 128),
    heatmap_size=(32, 32),
    sigma=(4, 2),
    minimal_diagonal_length=32**0.5,
    generate_keypoint_heatmaps=True,
    decode_max_instances=30)

tiny_model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(8, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(
                num_modules=1, num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64))),
        init_cfg=None),
    head=dict(
        in_channels=120,
        num_heatmap_filters=8,
        decoder=tiny_codec,
        # no rescore weights (DEKR's would be downloaded): rescoring is off,
        # and the head says so in the log; train_rescore_net trains one
        rescore_cfg=dict(init_cfg=None)))

tiny_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='BottomupRandomAffine', input_size=tiny_codec['input_size']),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='GenerateTarget', encoder=tiny_codec),
    dict(type='BottomupGetHeatmapMask'),
    dict(type='PackPoseInputs'),
]
tiny_val_pipeline = [
    dict(type='LoadImage'),
    dict(
        type='BottomupResize',
        input_size=tiny_codec['input_size'],
        size_factor=32,
        resize_mode='expand'),
    dict(
        type='PackPoseInputs',
        meta_keys=('id', 'img_id', 'img_path', 'crowd_index', 'ori_shape',
                   'img_shape', 'input_size', 'input_center', 'input_scale',
                   'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
                   'skeleton_links'))
]
