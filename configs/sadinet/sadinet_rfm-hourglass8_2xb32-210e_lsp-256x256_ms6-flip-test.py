# Table 2 protocol: six-scale image pyramid + flip. Test-only; train with the
# config without suffix.
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_lsp-256x256.py']

model = dict(
    type='MultiScaleTopdownPoseEstimator',
    test_cfg=dict(
        # multiples of 64 (see the MPII _ms6-flip-test config)
        scales=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75],
        size_divisor=64))
