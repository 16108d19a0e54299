"""Every six-scale test config runs six distinct pyramid levels: in the
``'recrop'`` mode (SPCNet and its Newell baseline, one shared protocol) the
test pipeline re-crops the box at exactly the estimator's six scales; in the
``'crop_resize'`` mode ``size_divisor`` rounding must not merge two sizes."""
import glob
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from mmpose_attn.models.pose_estimators.multiscale_topdown import \
    MultiScaleTopdownPoseEstimator

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
MS_CONFIGS = sorted(
    glob.glob(osp.join(CONFIG_ROOT, '*', '*_ms6-flip-test.py')))
# PyraNet's evalPyra.lua box scales, which SPCNet's Sec. 4.3 follows
PYRANET_SCALES = [0.8, 0.9, 1.0, 1.1, 1.2, 1.3]


def test_six_scale_configs_exist():
    papers = {osp.basename(osp.dirname(p)) for p in MS_CONFIGS}
    assert {'spcnet', 'sadinet'} <= papers


def _test_pipelines(cfg):
    return [cfg.val_dataloader.dataset.pipeline,
            cfg.test_dataloader.dataset.pipeline]


@pytest.mark.parametrize(
    'path', MS_CONFIGS, ids=[osp.basename(p) for p in MS_CONFIGS])
def test_six_distinct_pyramid_levels(path):
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'MultiScaleTopdownPoseEstimator'
    test_cfg = cfg.model.test_cfg
    assert len(test_cfg.scales) == 6 and test_cfg.flip_test
    assert len(set(test_cfg.scales)) == 6 and 1.0 in test_cfg.scales
    width, height = cfg.codec.input_size
    mode = test_cfg.get('multiscale_mode', 'crop_resize')
    if mode == 'recrop':
        for pipeline in _test_pipelines(cfg):
            (crop, ) = [t for t in pipeline if 'Affine' in t.type]
            assert crop.type == 'PyramidTopdownAffine'
            assert list(crop.scales) == list(test_cfg.scales)
            assert tuple(crop.input_size) == (width, height)
        return
    assert mode == 'crop_resize'
    holder = SimpleNamespace(test_cfg=test_cfg)
    sizes = {
        MultiScaleTopdownPoseEstimator._scaled_size(holder, (height, width),
                                                    s)
        for s in test_cfg.scales
    }
    assert len(sizes) == 6, f'{path}: scales collapse to {sorted(sizes)}'


def test_spcnet_and_its_baseline_share_one_pyramid():
    """Table 4's two multi-scale rows under one protocol: the same
    re-cropping pyramid (PyraNet's scales) for SPCNet and the Newell
    8-stack hourglass, and for SPCNet's LSP and FLIC test configs."""
    spcnet = [p for p in MS_CONFIGS if osp.sep + 'spcnet' + osp.sep in p]
    assert len(spcnet) == 4
    assert any('td-hm_hourglass8' in p for p in spcnet)
    for path in spcnet:
        test_cfg = Config.fromfile(path).model.test_cfg
        assert test_cfg.multiscale_mode == 'recrop', path
        assert list(test_cfg.scales) == PYRANET_SCALES, path
