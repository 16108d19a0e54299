# Table 4 "single-scale with horizon flip" (89.5): the Newell 8-stack baseline,
# tested on the 256x256 crop and its mirror image. Test-only; train with the
# config without suffix (which tests without flip: Tables 1-3 and Table 4's
# single-scale rows).
_base_ = ['./td-hm_hourglass8_4xb12-170e_mpii-256x256.py']

model = dict(test_cfg=dict(flip_test=True))
