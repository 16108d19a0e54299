# Newell's 8-stack hourglass (bottlenecks, 4 poolings, intermediate
# supervision), heatmap loss only, SADI-Net's training settings: the network
# whose published MPII val scores are the "Hourglass" row of Tables 3-4. The
# paper describes that baseline with basic blocks (Sec. IV-E1, Fig. 3(b)):
# td-hm_basic-hourglass8_*, the baseline of our Table 3-4 rows.
_base_ = ['./_base_/sadinet-recipe_mpii-256x256.py']

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='DilatedHourglassNet',
        num_stacks=8,
        num_downsamples=4,
        dilated_blocks=False),
    head=dict(
        type='SPCNetHead',
        in_channels=256,
        out_channels=16,
        num_stacks=8,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
