"""mmengine checkpoints load under torch.load's weights-only default."""
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmpose_attn.utils.checkpoint import mmengine_checkpoint_globals


class Linear(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class Vectors(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.full((3, ), float(i)))


def runner(work_dir, max_epochs, **kwargs):
    return Runner(
        model=Linear(),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=Vectors(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        default_scope='mmpose',
        **kwargs)


def test_weights_only_load_and_resume(tmp_path):
    work_dir = str(tmp_path / 'work')
    runner(work_dir, max_epochs=1).train()
    ckpt_path = f'{work_dir}/epoch_1.pth'
    # Exactly the globals our allow-list names, nothing unsafe left over.
    unsafe = set(torch.serialization.get_unsafe_globals_in_checkpoint(
        ckpt_path))
    allowed = {
        f'{g.__module__}.{g.__qualname__}'
        for g in mmengine_checkpoint_globals()
    }
    assert unsafe <= allowed | {'builtins.getattr'}
    ckpt = torch.load(ckpt_path)  # weights_only=True by default
    assert ckpt['meta']['epoch'] == 1

    resumed = runner(work_dir, max_epochs=2, resume=True, load_from=ckpt_path)
    resumed.train()
    assert resumed.epoch == 2 and resumed.iter == 4
