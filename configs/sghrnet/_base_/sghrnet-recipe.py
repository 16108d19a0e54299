# SG-HRNet's training recipe (Tang et al., TS 2024, Sec. 4.3), shared by
# every SG-HRNet config and its same-recipe HRNet-W32 baseline: Adam, lr 1e-3,
# x0.1 at epochs 170 and 200, 210 epochs, 32 crops per iteration (one GPU).
# The augmentation and the data are in the sghrnet-recipe_{data}-{size}.py
# files beside this one. MMPose's own HRNet recipe (Adam 5e-4, 500-iteration
# warm-up, scale (0.5, 1.5)/(0.75, 1.25), rotation 80/40, half-body on COCO)
# is not this one.
_base_ = ['../../_base_/default_runtime.py']

train_cfg = dict(max_epochs=210, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=210,
        milestones=[170, 200],
        gamma=0.1,
        by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=32)
