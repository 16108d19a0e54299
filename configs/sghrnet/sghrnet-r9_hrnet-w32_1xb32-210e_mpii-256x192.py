# SG-HRNet radius ablation (Table 3), paper-literal: segmentation target
# radius r = 9 heatmap pixels, otherwise the MPII 256x192 r = 5 config.
_base_ = ['./sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py']

codec = dict(_base_.codec, radius=9)

model = dict(head=dict(decoder=codec))

train_pipeline = _base_.train_pipeline
train_pipeline[-2] = dict(type='GenerateTarget', encoder=codec)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
