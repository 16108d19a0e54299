"""What every config of the package must keep, whatever its paper."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, CONFIG_ROOT).split(osp.sep))
# {algo}_{backbone}_{N}xb{B}-{E}e_{dataset}-{H}x{W}[_suffix].py
NAME = re.compile(r'^[\w-]+_[\w-]+_\d+xb\d+-\d+e_[\w-]+-\d+x\d+(_[\w-]+)?\.py$')


@pytest.fixture(scope='module')
def runtime():
    return Config.fromfile(osp.join(CONFIG_ROOT, '_base_',
                                    'default_runtime.py'))


def test_every_paper_has_configs():
    folders = {osp.relpath(p, CONFIG_ROOT).split(osp.sep)[0] for p in CONFIGS}
    assert {'spcnet', 'sadinet', 'sghrnet', 'samkr', 'toy'} <= folders
    for folder in folders - {'toy'}:
        assert osp.isfile(osp.join(CONFIG_ROOT, folder, 'README.md'))


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, CONFIG_ROOT) for p in CONFIGS])
def test_config_keeps_the_conventions(path, runtime):
    assert NAME.match(osp.basename(path)), f'{path}: not MMPose naming'
    cfg = Config.fromfile(path)
    # loads the package and fails fast on a checkpoint of another model
    assert cfg.default_scope == 'mmpose'
    assert cfg.custom_imports == runtime.custom_imports
    assert cfg.custom_hooks == runtime.custom_hooks
    # MMPoseInferencer reads the top-level data_mode
    assert cfg.data_mode == cfg.test_dataloader.dataset.get(
        'data_mode', 'topdown')
