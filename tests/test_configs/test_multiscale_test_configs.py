"""Every multi-scale test config runs as many distinct input sizes as it
lists scales: ``size_divisor`` rounding must not merge two of them."""
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


def test_six_scale_configs_exist():
    papers = {osp.basename(osp.dirname(p)) for p in MS_CONFIGS}
    assert {'spcnet', 'sadinet'} <= papers


@pytest.mark.parametrize(
    'path', MS_CONFIGS, ids=[osp.basename(p) for p in MS_CONFIGS])
def test_scales_give_distinct_input_sizes(path):
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'MultiScaleTopdownPoseEstimator'
    test_cfg = cfg.model.test_cfg
    assert len(test_cfg.scales) == 6 and test_cfg.flip_test
    width, height = cfg.codec.input_size
    holder = SimpleNamespace(test_cfg=test_cfg)
    sizes = {
        MultiScaleTopdownPoseEstimator._scaled_size(holder, (height, width),
                                                    s)
        for s in test_cfg.scales
    }
    assert len(sizes) == 6, f'{path}: scales collapse to {sorted(sizes)}'
