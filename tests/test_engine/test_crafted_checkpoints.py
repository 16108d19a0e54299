"""Crafted checkpoints, one calling ``builtins.getattr`` and one calling
``os.system``, raise on every loading path of this package, and run
nothing: the marker file the ``os.system`` one would write never appears."""
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from mmpose_attn.engine import PoseAttnRunner
from mmpose_attn.engine.checkpoint import (CheckpointFileError,
                                           load_checkpoint_file)
from mmpose_attn.engine.hooks import CheckpointCompatibilityHook
from mmpose_attn.engine.loading import init_model, load_checkpoint
from test_checkpoint import Linear, make_runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'toy',
                'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')


class System:
    """Unpickled, runs ``os.system(command)``."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


class ArrayToFile:
    """Unpickled, runs ``getattr(numpy.ndarray, 'tofile')(array, path)``:
    ``builtins.getattr`` reaching a method that writes a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return np.ndarray.tofile, (np.zeros(1), self.path)


@pytest.fixture
def crafted(tmp_path):
    marker = tmp_path / 'marker'
    files = {}
    for name, payload in (('system', System(f'touch {marker}')),
                          ('getattr', ArrayToFile(str(marker)))):
        files[name] = str(tmp_path / f'{name}.pth')
        # a real state_dict beside the payload, as a disguised file has
        torch.save(
            dict(state_dict=Linear().state_dict(), meta=dict(x=payload)),
            files[name])
    unsafe = {
        name: torch.serialization.get_unsafe_globals_in_checkpoint(path)
        for name, path in files.items()
    }
    assert 'posix.system' in unsafe['system']
    assert 'builtins.getattr' in unsafe['getattr']
    yield files, marker
    assert not marker.exists(), 'a crafted checkpoint ran its payload'


def test_the_payload_is_live(crafted):
    """Without weights-only loading the payload runs: the marker check of
    the other tests can fail."""
    files, marker = crafted
    torch.load(files['system'], weights_only=False)
    assert marker.exists()
    marker.unlink()


def refused(fn, *args, **kwargs):
    with pytest.raises(CheckpointFileError) as err:
        fn(*args, **kwargs)
    assert 'refused this file' in str(err.value)
    return str(err.value)


def test_our_loaders_refuse(crafted):
    files, _ = crafted
    for name, path in files.items():
        message = refused(load_checkpoint_file, path)
        assert message.startswith(f'{path}: ')
        assert {'system': 'posix.system',
                'getattr': "getattr(<class 'numpy.ndarray'>, 'tofile') "
                'refused'}[name] in message
        refused(load_checkpoint, Linear(), path)


def test_tools_init_model_refuses(crafted):
    files, _ = crafted
    for path in files.values():
        refused(init_model, TINY, path, device='cpu')


@pytest.mark.parametrize('resume', [False, True])
@pytest.mark.parametrize('runner_cls,hooks', [
    (Runner, [CheckpointCompatibilityHook()]),
    (PoseAttnRunner, None),
])
def test_runners_refuse(crafted, tmp_path, runner_cls, hooks, resume):
    files, _ = crafted
    for path in files.values():
        runner = make_runner(
            tmp_path / 'work', 1, runner_cls, custom_hooks=hooks,
            load_from=path, resume=resume)
        refused(runner.train)


def test_stock_torch_load_refuses(crafted):
    """What the loaders above build on, unchanged by the package."""
    files, _ = crafted
    for path in files.values():
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path)
