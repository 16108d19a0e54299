# Newell's 8-stack hourglass (bottlenecks, 4 poolings, intermediate
# supervision), heatmap loss only, SADI-Net's training settings: the network
# whose published MPII val scores are the "Hourglass" row of Tables 3-4. The
# paper describes that baseline with basic blocks (Sec. IV-E1, Fig. 3(b)):
# td-hm_basic-hourglass_*, the baseline of our Table 3-4 rows.
_base_ = ['./sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='DilatedHourglassNet',
        num_keypoints=16,
        num_stacks=8,
        num_downsamples=4,
        dilated_blocks=False),
    head=dict(
        _delete_=True,
        type='SPCNetHead',
        in_channels=256,
        out_channels=16,
        num_stacks=8,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))
