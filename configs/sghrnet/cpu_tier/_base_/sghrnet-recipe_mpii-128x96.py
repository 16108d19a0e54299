# SG-HRNet's recipe on MPII (../../_base_/sghrnet-recipe_mpii-256x192.py) at
# the CPU tier's size: half the paper's input (128x96, 32x24 heatmaps; sigma
# and the segmentation radius halved with them), batch 16. Shared by the
# CPU-tier SG-HRNet config and its same-recipe HRNet.
_base_ = ['../../_base_/sghrnet-recipe_mpii-256x192.py']

codec = dict(
    type='SegmentationHeatmap',
    input_size=(96, 128),
    heatmap_size=(24, 32),
    sigma=1,
    radius=2.5)

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

train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
