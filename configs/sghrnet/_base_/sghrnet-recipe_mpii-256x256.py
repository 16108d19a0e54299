# SG-HRNet's recipe on MPII (./sghrnet-recipe_mpii-256x192.py) at 256x256,
# HRNet's MPII input (the paper states 256x192 for every experiment,
# Sec. 3.3 and 4.3): only the input size and the heatmaps change.
_base_ = ['./sghrnet-recipe_mpii-256x192.py']

codec = dict(
    type='SegmentationHeatmap',
    input_size=(256, 256),
    heatmap_size=(64, 64),
    sigma=2,
    radius=5)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.65, 1.35),
        rotate_factor=45),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
