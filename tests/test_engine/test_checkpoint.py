"""Checkpoints under torch.load's weights-only default: what our runs save
needs no allowlist; stock mmengine checkpoints load inside our loader only;
what is not a checkpoint is named; crafted pickles run nothing."""
import itertools
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmpose_attn.engine import PoseAttnRunner
from mmpose_attn.engine.checkpoint import (CheckpointFileError,
                                           checkpoint_globals,
                                           from_weights_only,
                                           history_buffer_statistic,
                                           load_checkpoint_file,
                                           to_weights_only)
from mmpose_attn.engine.loading import load_checkpoint


class Linear(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class Vectors(Dataset):
    # numpy values in the metainfo, as MMPose's parsed dataset metainfo has
    metainfo = dict(sigmas=np.array([0.5, 0.25], np.float32), name='v')

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.full((3, ), float(i)))


_RUNS = itertools.count()


def make_runner(work_dir, max_epochs, runner_cls=Runner, **kwargs):
    # a fresh message hub and logger each time (they are named after the
    # experiment, by default the current second)
    kwargs.setdefault('experiment_name', f'exp{next(_RUNS)}')
    return runner_cls(
        model=Linear(),
        work_dir=str(work_dir),
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


def same(a, b):
    """Exact equality through containers, arrays, tensors and buffers."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, HistoryBuffer):
        same(a.__dict__, b.__dict__)
    else:
        assert a == b


def test_weights_only_encoding_round_trip(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(1.5, 2)
    buffer.update(0.25)
    checkpoint = dict(
        meta=dict(
            epoch=1,
            dataset_meta=dict(
                sigmas=np.array([0.5, 0.25], np.float32), flip=[1, 0])),
        state_dict=OrderedDict(w=torch.ones(2)),
        message_hub=dict(
            log_scalars=OrderedDict([('train/loss', buffer)]),
            runtime_info=OrderedDict(
                best=np.float32(0.75), count=np.int64(3), epoch=1,
                hist=np.arange(4, dtype=np.int16))))
    encoded = to_weights_only(checkpoint)
    # the original is left alone and the tensors are shared
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    assert encoded['state_dict']['w'] is checkpoint['state_dict']['w']
    path = str(tmp_path / 'ckpt.pth')
    torch.save(encoded, path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    loaded = torch.load(path)  # weights_only=True, nothing allowed
    # init_model hands the dataset_meta to the model: plain lists there
    assert loaded['meta']['dataset_meta'] == dict(sigmas=[0.5, 0.25],
                                                  flip=[1, 0])
    decoded = from_weights_only(loaded, checkpoint['meta']['dataset_meta'])
    same(decoded, checkpoint)
    # without the running metainfo the lists stay lists
    assert from_weights_only(loaded)['meta']['dataset_meta']['sigmas'] == [
        0.5, 0.25
    ]


def test_history_buffer_statistic_is_no_getattr():
    assert history_buffer_statistic(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    for owner, name in ((HistoryBuffer, '__init__'), (os, 'system'),
                        (np.ndarray, 'tofile'), (HistoryBuffer, '__class__')):
        with pytest.raises(pickle.UnpicklingError, match='refused'):
            history_buffer_statistic(owner, name)


def test_stock_runner_checkpoint_loads_in_our_loader_only(tmp_path):
    """A stock mmengine checkpoint needs the allowlist; the allowlist is
    there inside our loader and nowhere else."""
    make_runner(tmp_path / 'work', 1).train()
    path = str(tmp_path / 'work' / 'epoch_1.pth')
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    assert 'builtins.getattr' in unsafe and any('HistoryBuffer' in g
                                                for g in unsafe)
    before = safe_globals()
    with pytest.raises(pickle.UnpicklingError, match='Unsupported global'):
        torch.load(path)
    checkpoint = load_checkpoint_file(path)
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    assert checkpoint['meta']['epoch'] == 1
    assert safe_globals() == before
    with checkpoint_globals():
        assert len(safe_globals()) > len(before)
    assert safe_globals() == before


def safe_globals():
    return sorted(map(repr, torch.serialization.get_safe_globals()))


@pytest.mark.parametrize('runner_cls,hooks', [
    (Runner, [dict(type='WeightsOnlyCheckpointHook')]),
    (PoseAttnRunner, None),
])
def test_weights_only_save_and_resume(tmp_path, runner_cls, hooks):
    work = tmp_path / 'work'
    make_runner(work, 1, runner_cls, custom_hooks=hooks).train()
    path = str(work / 'epoch_1.pth')
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    saved = torch.load(path)  # weights_only=True, nothing allowed
    assert saved['meta']['epoch'] == 1 and saved['meta']['iter'] == 2

    resumed = make_runner(
        work, 2, runner_cls, custom_hooks=hooks, resume=True, load_from=path)
    resumed.train()
    assert resumed.epoch == 2 and resumed.iter == 4
    # the message hub came back as HistoryBuffers with the first epoch's
    # losses: 2 from epoch 1, 2 from epoch 2
    loss = resumed.message_hub.get_scalar('train/loss')
    assert isinstance(loss, HistoryBuffer) and len(loss.data[0]) == 4
    torch.testing.assert_close(
        torch.from_numpy(loss.data[0][:2]),
        torch.from_numpy(
            from_weights_only(saved)['message_hub']['log_scalars']
            ['train/loss'].data[0]))


def test_our_runner_resumes_a_stock_checkpoint(tmp_path):
    work = tmp_path / 'work'
    make_runner(work, 1).train()  # stock runner: HistoryBuffer pickled
    resumed = make_runner(
        work, 2, PoseAttnRunner, resume=True,
        load_from=str(work / 'epoch_1.pth'))
    resumed.train()
    assert resumed.epoch == 2 and resumed.iter == 4


@pytest.fixture
def not_checkpoints(tmp_path, samples_root):
    text = tmp_path / 'notes.pth'
    text.write_text('epoch 10, loss 0.1\n')
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    no_tensors = tmp_path / 'numbers.pth'
    torch.save(dict(epoch=1, lr=0.1), str(no_tensors))
    image = os.path.join(samples_root, 'coco', '000000000785.jpg')
    return [str(text), str(empty), str(no_tensors), image]


def test_files_that_are_not_checkpoints_are_named(not_checkpoints, tmp_path):
    model = Linear()
    for path in not_checkpoints:
        with pytest.raises(CheckpointFileError) as err:
            load_checkpoint(model, path)
        assert str(err.value).startswith(f'{path}: ')
        assert 'expected a PyTorch checkpoint' in str(err.value)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint(model, str(tmp_path / 'missing.pth'))


@pytest.mark.parametrize('resume', [False, True])
@pytest.mark.parametrize('runner_cls,hooks', [
    (Runner, [dict(type='CheckpointCompatibilityHook')]),
    (PoseAttnRunner, None),
])
def test_runner_names_a_file_that_is_not_a_checkpoint(
        not_checkpoints, tmp_path, runner_cls, hooks, resume):
    path = not_checkpoints[0]
    runner = make_runner(
        tmp_path / 'work', 1, runner_cls, custom_hooks=hooks,
        load_from=path, resume=resume)
    with pytest.raises(CheckpointFileError) as err:
        runner.train()
    assert str(err.value).startswith(f'{path}: not a readable checkpoint')
    assert not os.path.exists(tmp_path / 'work' / 'epoch_1.pth')
