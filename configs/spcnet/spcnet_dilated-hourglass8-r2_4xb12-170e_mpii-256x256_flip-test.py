# Table 4 "single-scale with horizon flip" (90.5): SPCNet,
# tested on the 256x256 crop and its mirror image. Test-only; train with the
# config without suffix (which tests without flip: Tables 1-3 and Table 4's
# single-scale rows).
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py']

model = dict(test_cfg=dict(flip_test=True))
