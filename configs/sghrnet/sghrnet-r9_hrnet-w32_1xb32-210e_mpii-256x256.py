# SG-HRNet radius ablation (Table 3), HRNet protocol: segmentation target
# radius r = 9 heatmap pixels, otherwise the MPII 256x256 r = 5 config.
_base_ = ['./sghrnet_hrnet-w32_1xb32-210e_mpii-256x256.py']

codec = dict(_base_.codec, radius=9)

model = dict(head=dict(decoder=codec))

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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
