# Table 4 "multi-scale with horizon flip" (90.0): the Newell 8-stack baseline
# tested on the six-scale re-cropped pyramid + flip of
# ./_base_/pyramid-test_256x256.py (Sec. 4.1). Test-only; train with the
# config without suffix.
_base_ = [
    './td-hm_hourglass8_4xb12-170e_mpii-256x256.py',
    './_base_/pyramid-test_256x256.py'
]

model = dict(
    type='MultiScaleTopdownPoseEstimator',
    test_cfg={{_base_.pyramid_test_cfg}})
val_dataloader = dict(dataset=dict(pipeline={{_base_.pyramid_val_pipeline}}))
test_dataloader = val_dataloader
