import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner, save_checkpoint
from torch.utils.data import Dataset

from mmpose_attn.engine.hooks.checkpoint_compatibility import (
    CheckpointCompatibilityHook, compare_state_dicts)


class TinyNet(BaseModel):

    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.bn = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc(self.bn(self.conv(x)).mean((2, 3)))
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class Images(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.randn(3, 8, 8))


def make_runner(tmp_path, load_from):
    return Runner(
        model=TinyNet(),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            dataset=Images(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        load_from=load_from,
        custom_hooks=[dict(type='CheckpointCompatibilityHook')],
        default_scope='mmpose')


def test_compare_state_dicts_by_hand():
    model = {'a': torch.zeros(2), 'b': torch.zeros(3), 'c': torch.zeros(1)}
    ckpt = {'a': torch.ones(2), 'b': torch.ones(4), 'd': torch.ones(1)}
    matched, mismatched, missing, unexpected = compare_state_dicts(
        model, ckpt)
    assert (matched, mismatched, missing, unexpected) == (['a'], ['b'], ['c'],
                                                          ['d'])


def test_same_architecture_accepted(tmp_path):
    path = str(tmp_path / 'same.pth')
    save_checkpoint(dict(state_dict=TinyNet().state_dict()), path)
    runner = make_runner(tmp_path, path)
    runner.train()  # loads and trains one epoch
    torch.testing.assert_close(
        runner.model.conv.weight.shape, TinyNet().conv.weight.shape)


def test_other_architecture_refused_before_loading(tmp_path):
    path = str(tmp_path / 'other.pth')
    save_checkpoint(dict(state_dict=TinyNet(width=8).state_dict()), path)
    runner = make_runner(tmp_path, path)
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        runner.train()
    message = str(err.value)
    assert path in message
    # 9 entries: conv.weight/bias, bn.weight/bias/running_mean/running_var
    # and fc.weight change shape; fc.bias and bn.num_batches_tracked keep it.
    assert 'only 2 of 9 weights match' in message
    assert 'Shape mismatch: conv.weight, conv.bias, bn.weight, ... (7 in all)' \
        in message


def test_fine_tuning_with_another_head_is_accepted():
    model = TinyNet().state_dict()
    ckpt = dict(model)
    ckpt['fc.weight'] = torch.zeros(5, 4)
    ckpt['fc.bias'] = torch.zeros(5)
    CheckpointCompatibilityHook().check(model, ckpt, 'ft.pth')  # 7/9 match
    with pytest.raises(RuntimeError, match='ft.pth'):
        CheckpointCompatibilityHook(min_match_ratio=0.9).check(
            model, ckpt, 'ft.pth')
