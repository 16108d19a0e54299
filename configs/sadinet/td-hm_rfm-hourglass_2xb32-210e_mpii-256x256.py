# Table 3 "RFM": the 8-stack hourglass built from Receptive Fortified Modules,
# heatmap loss only (no SFM, no DLM).
_base_ = ['./td-hm_hourglass_2xb32-210e_mpii-256x256.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='RFMHourglassNet',
        num_keypoints=16,
        num_stacks=8,
        dilation=2,
        se_ratio=16,
        level_channels=None))
