# SG-HRNet on MPII, HRNet protocol: the paper-literal MPII config
# (sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py) at HRNet's MPII input,
# 256x256, and with HRNet's nearest fusion upsampling, so that it differs
# from MMPose's td-hm_hrnet-w32 MPII baseline only by SG-HRNet's additions.
_base_ = ['./sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py']

codec = dict(_base_.codec, input_size=(256, 256), heatmap_size=(64, 64))

model = dict(
    backbone=dict(
        extra=dict(upsample=dict(mode='nearest', align_corners=None))),
    head=dict(decoder=codec))

# the base pipelines with this input size and target
train_pipeline = _base_.train_pipeline
train_pipeline[-3] = dict(type='TopdownAffine', input_size=codec['input_size'])
train_pipeline[-2] = dict(type='GenerateTarget', encoder=codec)
val_pipeline = _base_.val_pipeline
val_pipeline[-2] = dict(type='TopdownAffine', input_size=codec['input_size'])
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
