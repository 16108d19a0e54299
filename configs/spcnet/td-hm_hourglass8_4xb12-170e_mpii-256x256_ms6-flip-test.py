# Table 4 "multi-scale with horizon flip" for the baseline 8-stack hourglass.
# Test-only; train with the config without suffix.
_base_ = ['./td-hm_hourglass8_4xb12-170e_mpii-256x256.py']

model = dict(
    type='MultiScaleTopdownPoseEstimator',
    test_cfg=dict(
        # stride-4 stem x 4 poolings: inputs must be multiples of 64, so
        # SPCNet's 0.7-1.2 pyramid would collapse to three sizes here; six
        # distinct sizes of a 256 input step by 0.25 (128 ... 448 px).
        scales=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75],
        size_divisor=64))
