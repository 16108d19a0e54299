"""configs/mix/, SPCNet's modules with MMPose's: SPCNet's SIM on MMPose's
ResNet-50 and HRNet-W32 under MMPose's HeatmapHead, and SPCNet's dilated
hourglass under HeatmapHead. Each full-width model is wired right (shapes),
a narrow copy equals a hand-composed reference, and trains one step and
tests on the real MPII samples through the config's own pipeline and
optimizer."""
import copy
import functools
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmpose.registry import MODELS
from _topdown_steps import (checked_test_step, checked_train_step,
                            mpii_samples_dataset, with_codec)

RES50_SIM = 'td-hm_res50-sim_8xb64-210e_mpii-256x256.py'
HRNET_SIM = 'td-hm_hrnet-w32-sim_8xb64-210e_mpii-256x256.py'
HOURGLASS = 'td-hm_dilated-hourglass8-r2_8xb64-210e_mpii-256x256.py'
# config -> (backbone, neck, head); ours: DilatedHourglassNet and the SIM
TYPES = {
    RES50_SIM: ('ResNet', 'SelectiveInformationModule', 'HeatmapHead'),
    HRNET_SIM: ('HRNet', 'SelectiveInformationModule', 'HeatmapHead'),
    HOURGLASS: ('DilatedHourglassNet', None, 'HeatmapHead'),
}
MPII = 'mmpose::body_2d_keypoint/topdown_heatmap/mpii/'
STOCK = {
    RES50_SIM: MPII + 'td-hm_res50_8xb64-210e_mpii-256x256.py',
    HRNET_SIM: MPII + 'td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py',
    HOURGLASS: MPII + 'td-hm_hourglass52_8xb64-210e_mpii-256x256.py',
}
TINY_CODEC = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
# HRNet-W32's four stages with one module, one block per branch and widths
# 8-64
TINY_HRNET = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                num_blocks=(1, ), num_channels=(8, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                num_blocks=(1, 1), num_channels=(8, 16)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC',
                num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC',
                num_blocks=(1, 1, 1, 1), num_channels=(8, 16, 32, 64),
                multiscale_output=True))


@functools.lru_cache(maxsize=None)
def _parse(path):
    if path.startswith('mmpose::'):
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def _unscoped(obj):
    """``obj`` without the ``_scope_`` keys that mmengine adds to what is
    inherited through an ``mmpose::`` base."""
    if isinstance(obj, dict):
        return {k: _unscoped(v) for k, v in obj.items() if k != '_scope_'}
    if isinstance(obj, (list, tuple)):
        return [_unscoped(v) for v in obj]
    return obj


def _load(config_root, name):
    return copy.deepcopy(_parse(osp.join(config_root, 'mix', name)))


def _full_model(cfg):
    """The config's model without its pre-trained weights (no download)."""
    model = copy.deepcopy(cfg.model)
    model.backbone.init_cfg = None
    return model


def _tiny_model(name, cfg):
    """A narrow copy: same modules and wiring, small widths, 64x64 input."""
    model = _full_model(cfg)
    if name == RES50_SIM:  # ResNet-50's blocks at 1/8 of its widths
        model.backbone.update(stem_channels=8, base_channels=8)
        model.neck.update(in_channels=(32, 64, 128, 256), out_channels=16)
    elif name == HRNET_SIM:
        model.backbone.extra = TINY_HRNET
        model.neck.update(in_channels=(8, 16, 32, 64), out_channels=16)
    else:
        model.backbone.update(
            num_stacks=2, feat_channels=16, stem_channels=(8, 16))
    model.head.update(in_channels=16, decoder=TINY_CODEC)
    return model


def test_every_spcnet_mix_config_is_here(config_root):
    names = {
        osp.basename(p)
        for p in glob.glob(osp.join(config_root, 'mix', '*.py'))
    }
    assert set(TYPES) <= names


@pytest.mark.parametrize('name', sorted(TYPES))
def test_stock_recipe_with_our_module_swapped_in(config_root, name):
    """MMPose's config with the modules of the table swapped in: the data,
    codec, schedule and test settings are MMPose's."""
    cfg = _load(config_root, name)
    stock = _parse(STOCK[name])
    backbone, neck, head = TYPES[name]
    assert cfg.model.backbone.type == backbone
    assert cfg.model.get('neck', {}).get('type') == neck
    assert cfg.model.head.type == head
    for key in ('codec', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'auto_scale_lr', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'default_hooks'):
        assert _unscoped(cfg[key]) == _unscoped(stock[key]), key
    # the batch the name and auto_scale_lr give (MMPose's HRNet file says
    # 8xb64 but trains with 16)
    assert cfg.train_dataloader.batch_size * 8 == \
        cfg.auto_scale_lr.base_batch_size
    assert _unscoped(cfg.train_dataloader.dataset) == _unscoped(
        stock.train_dataloader.dataset)
    for key in ('data_preprocessor', 'test_cfg'):
        assert _unscoped(cfg.model[key]) == _unscoped(stock.model[key]), key
    for key in ('decoder', 'loss'):
        assert _unscoped(cfg.model.head[key]) == _unscoped(
            stock.model.head[key]), key


@pytest.mark.parametrize('name', sorted(TYPES))
def test_full_width_shapes(config_root, name):
    """The full-width modules fit together: 16 heatmaps at 1/4 of the input
    (64x64 here, to stay cheap; the widths are the config's)."""
    torch.manual_seed(0)
    model = MODELS.build(_full_model(_load(config_root, name))).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 64), None, mode='tensor')
    assert out.shape == (1, 16, 16, 16)
    if name != HOURGLASS:
        with torch.no_grad():
            feats = model.backbone(torch.rand(1, 3, 64, 64))
        assert [f.shape[1] for f in feats] == list(model.neck.in_channels)
        assert model.neck.out_channels == 256  # the paper's width


def _sim_reference(neck, levels):
    """Sec. 3.3 from the equations: per level conv1x1-BN-ReLU, nearest
    upsampling to the finest level, A = softmax(conv1x1(sum X)), F = sum
    A * X."""
    size = levels[0].shape[-2:]  # ResNet / HRNet: finest first
    xs = [
        F.interpolate(conv(f), size=size, mode='nearest')
        for conv, f in zip(neck.collect_convs, levels)
    ]
    weights = neck.squeeze(sum(xs)).softmax(dim=1)
    return sum(weights[:, n:n + 1] * x for n, x in enumerate(xs))


@pytest.mark.parametrize('name', sorted(TYPES))
def test_equals_a_hand_composed_reference(config_root, name):
    """The estimator's heatmaps are HeatmapHead's 1x1 conv on the SIM's F of
    the backbone's four outputs, or on the hourglass's last stack."""
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(name, _load(config_root, name))).eval()
    x = torch.rand(2, 3, 64, 64)
    conv = model.head.final_layer
    assert isinstance(model.head.deconv_layers, torch.nn.Identity)
    with torch.no_grad():
        out = model(x, None, mode='tensor')
        if name == HOURGLASS:
            stack_feats, _ = model.backbone.forward_stacks(x)
            feat = stack_feats[-1]
        else:
            levels = model.backbone(x)
            assert len(levels) == 4
            feat = _sim_reference(model.neck, levels)
        expected = F.conv2d(feat, conv.weight, conv.bias)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name', sorted(TYPES))
def test_tiny_copy_trains_and_tests_on_samples(config_root, samples_root,
                                               name):
    cfg = _load(config_root, name)
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(name, cfg))
    train_set = mpii_samples_dataset(
        samples_root,
        with_codec(cfg.train_dataloader.dataset.pipeline, TINY_CODEC), False)
    test_set = mpii_samples_dataset(
        samples_root,
        with_codec(cfg.test_dataloader.dataset.pipeline, TINY_CODEC), True)
    model.dataset_meta = test_set.metainfo
    checked_train_step(model, cfg, train_set)
    # MMPose's test_cfg: flip test
    assert model.test_cfg['flip_test']
    checked_test_step(model, test_set, 16)
