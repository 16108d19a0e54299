# Ablation baseline of Tables 3-4 ("Hourglass"): the shared stacked hourglass
# with the classic geometry (4 poolings, Newell's bottlenecks), as many stacks
# as SADI-Net, heatmap loss only, SADI-Net's training settings.
_base_ = ['./sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='DilatedHourglassNet',
        num_keypoints=16,
        num_stacks=1,
        num_downsamples=4,
        dilated_blocks=False),
    head=dict(
        _delete_=True,
        type='SPCNetHead',
        in_channels=256,
        out_channels=16,
        num_stacks=1,
        use_fused=False,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))
