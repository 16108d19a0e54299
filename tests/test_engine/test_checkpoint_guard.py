"""Another architecture's checkpoint is refused wherever our models load
weights (runner, init_model, MMPoseInferencer, visualize tools), whatever
the config's ``custom_hooks``; files torch cannot load are named."""
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner, save_checkpoint

from mmpose.apis import MMPoseInferencer, init_model
from mmpose_attn.tools.visualize_sg import main as visualize_sg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OURS = osp.join(REPO, 'configs', 'sghrnet',
                'sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py')
STOCK = osp.join(REPO, 'configs', 'toy',
                 'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('ckpts')
    paths = {}
    for name, config in (('ours', OURS), ('stock', STOCK)):
        paths[name] = str(root / f'{name}.pth')
        save_checkpoint(
            dict(state_dict=init_model(config, device='cpu').state_dict()),
            paths[name])
    return paths


def test_init_model_refuses_another_architecture(checkpoints):
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        init_model(OURS, checkpoints['stock'], device='cpu')
    assert checkpoints['stock'] in str(err.value)


def test_init_model_loads_its_own_checkpoint(checkpoints):
    model = init_model(OURS, checkpoints['ours'], device='cpu')
    saved = torch.load(checkpoints['ours'], map_location='cpu')['state_dict']
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, saved[key])


def test_stock_mmpose_models_load_as_before(checkpoints):
    """A model of MMPose modules only (the toy SimpleBaseline) is not
    guarded: a wrong checkpoint loads with mmengine's warnings."""
    model = init_model(STOCK, checkpoints['ours'], device='cpu')
    assert model is not None


def test_guard_survives_a_config_that_replaces_custom_hooks(
        checkpoints, tmp_path):
    cfg = Config.fromfile(OURS)
    cfg.custom_hooks = [dict(type='EMAHook')]  # drops our config's hook
    cfg.load_from = checkpoints['stock']
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        runner.test()
    assert checkpoints['stock'] in str(err.value)


def test_inferencer_refuses_another_architecture(checkpoints):
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        MMPoseInferencer(
            pose2d=OURS,
            pose2d_weights=checkpoints['stock'],
            det_model='whole_image',
            device='cpu')
    assert checkpoints['stock'] in str(err.value)


def test_visualize_tool_refuses_another_architecture(checkpoints,
                                                     samples_root, tmp_path):
    img = osp.join(samples_root, 'coco', '000000000785.jpg')
    with pytest.raises(RuntimeError, match='does not fit this model') as err:
        visualize_sg([
            OURS, checkpoints['stock'], img, '--out',
            str(tmp_path / 'sg.png')
        ])
    assert checkpoints['stock'] in str(err.value)
    assert not (tmp_path / 'sg.png').exists()


class NotAWeight:
    pass


def test_files_torch_cannot_load_are_named(samples_root, tmp_path):
    image = osp.join(samples_root, 'coco', '000000000785.jpg')
    with pytest.raises(pickle.UnpicklingError) as err:
        init_model(OURS, image, device='cpu')
    assert str(err.value).startswith(f'{image}: ')

    pickled = str(tmp_path / 'object.pth')
    torch.save(dict(state_dict={}, extra=NotAWeight()), pickled)
    with pytest.raises(pickle.UnpicklingError, match='refused') as err:
        init_model(OURS, pickled, device='cpu')
    assert pickled in str(err.value) and 'NotAWeight' in str(err.value)

    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(EOFError) as err:
        init_model(OURS, str(empty), device='cpu')
    assert str(empty) in str(err.value)
