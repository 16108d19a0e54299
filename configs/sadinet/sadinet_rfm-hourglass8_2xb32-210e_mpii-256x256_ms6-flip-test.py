# Table 1 protocol: six-scale image pyramid + flip (Sec. IV-C). Test-only;
# train with the config without suffix.
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(
    type='MultiScaleTopdownPoseEstimator',
    test_cfg=dict(
        # stride-4 stem x 4 poolings: inputs must be multiples of 64, so six
        # distinct scales of a 256 input step by 0.25 (128 ... 448 px)
        scales=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75],
        size_divisor=64))
