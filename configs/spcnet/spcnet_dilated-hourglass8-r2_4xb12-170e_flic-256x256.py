# SPCNet on FLIC (Table 7): 3987 training / 1016 test frames, 11 upper-body
# joints, PCK@0.2 (torso-normalised; the paper reports elbows and wrists).
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py']

model = dict(head=dict(out_channels=11))

data_root = 'data/flic/'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='FlicDataset',
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/flic_train.json',
        data_prefix=dict(img=''),
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='FlicDataset',
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/flic_test.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline={{_base_.val_pipeline}}))
test_dataloader = val_dataloader

# Table 7's Total is the mean over elbows and wrists
val_evaluator = dict(
    _delete_=True,
    type='TorsoPCKAccuracy',
    thr=0.2,
    mean_over=('Elbow', 'Wrist'))
test_evaluator = val_evaluator
