# SPCNet on LSP tested on a six-scale image pyramid + flip (Sec. 4.1).
# Test-only; train with the config without suffix.
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_lsp-256x256.py']

model = dict(
    type='MultiScaleTopdownPoseEstimator',
    test_cfg=dict(scales=[0.7, 0.8, 0.9, 1.0, 1.1, 1.2], size_divisor=16))
