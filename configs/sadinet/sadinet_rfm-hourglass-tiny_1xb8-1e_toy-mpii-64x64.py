# Seconds-long SADI-Net for tests and smoke runs: a 2-stack RFM hourglass 16
# channels wide + SFM + DLM on the procedural toy MPII-16 data (no download),
# 64x64 inputs, 16x16 heatmaps; the default's reading of Eq. 4, 7-8.
_base_ = ['../toy/td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py']

codec = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)

model = dict(
    backbone=dict(
        _delete_=True,
        type='RFMHourglassNet',
        num_stacks=2,
        feat_channels=16,
        stem_channels=(8, 16),
        se_ratio=4,
        level_channels=(8, 16, 32, 64),
        feature_grad_scale=0.0),
    head=dict(
        _delete_=True,
        type='DLMHead',
        in_channels=16,
        out_channels=16,
        num_stacks=2,
        sfm=dict(
            type='SpatialFusionModule',
            in_channels=(8, 16, 32, 64),
            mid_channels=16,
            head_channels=(16, 32, 64, 128),
            out_channels=256),
        flow_grid_size=32,
        h2_mode='flow_only',
        decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.5, 1.5),
        rotate_factor=80),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', pack_transformed=True)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
