"""Another architecture's checkpoint is refused, with the file named, by
this package's loading code (tools' ``init_model``/``load_checkpoint``,
``PoseAttnRunner`` whatever the config's ``custom_hooks``); MMPose's own
``init_model`` is left as it is."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import save_checkpoint

from mmpose.apis import init_model as mmpose_init_model
from mmpose.registry import RUNNERS
from mmpose_attn.engine import PoseAttnRunner
from mmpose_attn.engine.checkpoint import to_weights_only
from mmpose_attn.engine.loading import init_model
from mmpose_attn.tools.visualize_sg import main as visualize_sg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OURS = osp.join(REPO, 'configs', 'sghrnet',
                'sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py')
STOCK = osp.join(REPO, 'configs', 'toy',
                 'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('ckpts')
    paths, models = {}, {}
    for name, config in (('ours', OURS), ('stock', STOCK)):
        paths[name] = str(root / f'{name}.pth')
        models[name] = mmpose_init_model(config, device='cpu')
        with torch.no_grad():  # distinct from a fresh init
            for p in models[name].parameters():
                p.add_(1.0)
        meta = dict(models[name].dataset_meta)
        if name == 'stock':  # to tell where init_model took it from
            meta['dataset_name'] = 'stock'
        # as our runs save them (WeightsOnlyCheckpointHook)
        save_checkpoint(
            to_weights_only(
                dict(
                    state_dict=models[name].state_dict(),
                    meta=dict(dataset_meta=meta))), paths[name])
    return paths, models


def test_init_model_refuses_another_architecture(checkpoints):
    paths, _ = checkpoints
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        init_model(OURS, paths['stock'], device='cpu')
    assert str(err.value).startswith(f"{paths['stock']}: ")


def test_init_model_loads_its_own_checkpoint(checkpoints):
    paths, models = checkpoints
    model = init_model(OURS, paths['ours'], device='cpu')
    saved = models['ours'].state_dict()
    assert list(model.state_dict()) == list(saved)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, saved[key], rtol=0, atol=0)
    assert not model.training
    # the checkpoint's dataset_meta, saved as lists, equals the config's:
    # the config's numpy arrays are kept
    expected = models['ours'].dataset_meta
    assert model.dataset_meta.keys() == expected.keys()
    assert isinstance(model.dataset_meta['sigmas'], np.ndarray)
    np.testing.assert_array_equal(model.dataset_meta['sigmas'],
                                  expected['sigmas'])


def test_mmpose_init_model_is_left_unchanged(checkpoints):
    """MMPose's init_model keeps mmengine's strict=False loading: another
    architecture's checkpoint loads what matches and warns (the package
    does not patch it); only the weights with a matching name and shape
    come from the file."""
    paths, models = checkpoints
    torch.manual_seed(0)
    fresh = mmpose_init_model(OURS, device='cpu').state_dict()
    torch.manual_seed(0)
    model = mmpose_init_model(OURS, paths['stock'], device='cpu')
    saved = models['stock'].state_dict()
    loaded = 0
    for key, value in model.state_dict().items():
        if key in saved and saved[key].shape == value.shape:
            torch.testing.assert_close(value, saved[key], rtol=0, atol=0)
            loaded += 1
        elif value.is_floating_point() and value.numel() > 1:
            torch.testing.assert_close(value, fresh[key], rtol=0, atol=0)
    assert loaded < len(saved) / 2
    assert model.dataset_meta['dataset_name'] == 'stock'


def test_runner_refuses_even_when_custom_hooks_are_replaced(
        checkpoints, tmp_path):
    paths, _ = checkpoints
    cfg = Config.fromfile(OURS)
    cfg.custom_hooks = [dict(type='EMAHook')]  # drops our config's hooks
    cfg.load_from = paths['stock']
    cfg.work_dir = str(tmp_path / 'work')
    runner = RUNNERS.build(cfg)
    assert type(runner) is PoseAttnRunner
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        runner.test()
    assert str(err.value).startswith(f"{paths['stock']}: ")


def test_visualize_tool_refuses_another_architecture(checkpoints,
                                                     samples_root, tmp_path):
    paths, _ = checkpoints
    img = osp.join(samples_root, 'coco', '000000000785.jpg')
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        visualize_sg([
            OURS, paths['stock'], img, '--out',
            str(tmp_path / 'sg.png')
        ])
    assert str(err.value).startswith(f"{paths['stock']}: ")
    assert not (tmp_path / 'sg.png').exists()
