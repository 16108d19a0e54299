"""configs/mix/, SADI-Net's and SG-HRNet's modules with MMPose's: SADI-Net's
SFM + DLM (``DLMHead``) on MMPose's ResNet-50 and HRNet-W32, SADI-Net's RFM
hourglass and SG-HRNet's backbone under MMPose's HeatmapHead. Each
full-width model is wired right (shapes), a narrow copy equals a
hand-composed reference or MMPose's own model with the same weights, and
trains one step and tests on the real MPII samples through the config's own
pipeline and optimizer."""
import copy
import functools
import glob
import os.path as osp

import mmpose
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmpose.registry import MODELS
from _topdown_steps import (checked_test_step, checked_train_step,
                            mpii_samples_dataset, with_codec)

RES50 = 'td-hm_res50-sfm-dlm_8xb64-210e_mpii-256x256.py'
HRNET = 'td-hm_hrnet-w32-sfm-dlm_8xb64-210e_mpii-256x256.py'
RFM = 'td-hm_rfm-hourglass8_8xb64-210e_mpii-256x256.py'
SGHRNET = 'td-hm_sghrnet-w32_8xb64-210e_mpii-256x256.py'
# config -> (backbone, head, the MMPose config it changes); ours: DLMHead,
# RFMHourglassNet, SGHRNet
MMPOSE_MPII = osp.join(
    osp.dirname(mmpose.__file__), '.mim', 'configs', 'body_2d_keypoint',
    'topdown_heatmap', 'mpii')
TYPES = {
    RES50: ('ResNet', 'DLMHead', 'td-hm_res50_8xb64-210e_mpii-256x256.py'),
    HRNET: ('HRNet', 'DLMHead', 'td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py'),
    RFM: ('RFMHourglassNet', 'HeatmapHead',
          'td-hm_hourglass52_8xb64-210e_mpii-256x256.py'),
    SGHRNET: ('SGHRNet', 'HeatmapHead',
              'td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py'),
}
DLM = (RES50, HRNET)
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
                num_blocks=(1, 1, 1, 1), num_channels=(8, 16, 32, 64)))


@functools.lru_cache(maxsize=None)
def _parse(path):
    return Config.fromfile(path)


def _load(config_root, name):
    return copy.deepcopy(_parse(osp.join(config_root, 'mix', name)))


def _mmpose(name):
    """The MMPose config the mix config changes."""
    return copy.deepcopy(_parse(osp.join(MMPOSE_MPII, TYPES[name][2])))


def _unscoped(obj):
    """``obj`` without the ``_scope_`` keys that ``mmpose::`` inheritance
    adds."""
    if isinstance(obj, dict):
        return {k: _unscoped(v) for k, v in obj.items() if k != '_scope_'}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unscoped(v) for v in obj)
    return obj


def _full_model(cfg):
    """The config's model without its pre-trained weights (no download)."""
    model = copy.deepcopy(cfg.model)
    model.backbone.init_cfg = None
    return model


def _tiny_model(name, cfg):
    """A narrow copy: same modules and wiring, small widths, 64x64 input."""
    model = _full_model(cfg)
    head = model.head
    if name == RES50:  # ResNet-50's blocks at 1/8 of its widths
        model.backbone.update(stem_channels=8, base_channels=8)
        head.update(in_channels=256, deconv_out_channels=(16, 16, 16))
        levels = (32, 64, 128, 256)
    elif name in (HRNET, SGHRNET):
        stage4 = model.backbone.extra.stage4
        model.backbone.extra = copy.deepcopy(TINY_HRNET)
        model.backbone.extra.stage4.multiscale_output = stage4.get(
            'multiscale_output', False)
        head.in_channels = 8
        levels = (8, 16, 32, 64)
    else:
        model.backbone.update(
            num_stacks=2, feat_channels=16, stem_channels=(8, 16),
            se_ratio=4)
        head.in_channels = 16
    head.decoder = TINY_CODEC
    if head.type == 'DLMHead':
        head.sfm.update(
            in_channels=levels,
            mid_channels=16,
            head_channels=(16, 32, 64, 128),
            out_channels=64)
        head.flow_grid_size = 32
    return model


def _heatmaps(model, x):
    """The decoded heatmaps (H_1 of DLMHead's per-stack list)."""
    out = model(x, None, mode='tensor')
    return out[-1] if isinstance(out, list) else out


def test_every_sadinet_and_sghrnet_mix_config_is_here(config_root):
    names = {
        osp.basename(p)
        for p in glob.glob(osp.join(config_root, 'mix', '*.py'))
    }
    assert set(TYPES) <= names


@pytest.mark.parametrize('name', sorted(TYPES))
def test_stock_recipe_with_our_module_swapped_in(config_root, name):
    """MMPose's config; only the module types of the table change, and for
    the DLM the packing of the transformed keypoints (mu_g of Eq. 4)."""
    cfg, stock = _load(config_root, name), _mmpose(name)
    backbone, head, _ = TYPES[name]
    assert cfg.model.backbone.type == backbone
    assert cfg.model.head.type == head
    assert 'neck' not in cfg.model
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'codec',
                'val_dataloader', 'test_evaluator'):
        assert _unscoped(cfg[key]) == stock[key], key
    pipeline = _unscoped(cfg.train_dataloader.dataset.pipeline)
    if name in DLM:
        assert pipeline[-1] == dict(type='PackPoseInputs',
                                    pack_transformed=True)
        assert pipeline[:-1] == stock.train_dataloader.dataset.pipeline[:-1]
    else:
        assert pipeline == stock.train_dataloader.dataset.pipeline
    assert _unscoped(cfg.model.head.decoder) == stock.codec


@pytest.mark.parametrize('name', sorted(TYPES))
def test_full_width_shapes(config_root, name):
    """The full-width modules fit together: 16 heatmaps at 1/4 of the input
    (64x64 here, to stay cheap; the widths are the config's); the SFM reads
    the backbone's four outputs, and the DLM gives mu_hat and sigma_hat."""
    torch.manual_seed(0)
    model = MODELS.build(_full_model(_load(config_root, name))).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = _heatmaps(model, x)
        assert out.shape == (1, 16, 16, 16)
        if name in DLM:
            feats = model.backbone(x)
            head = model.head
            assert [f.shape[1] for f in feats] == list(head.sfm.in_channels)
            assert head.sfm.out_channels == 2048  # the paper's SFM
            mu, sigma, h2 = head.predict_distribution(feats)
            assert mu.shape == sigma.shape == (1, 16, 2)
            assert h2.shape == out.shape


def _stock_equivalent(name, model):
    """MMPose's own model of the config this one changes, narrowed alike,
    with ``model``'s weights: SimpleBaseline (ResNet-50 + HeatmapHead) or
    HRNet-W32 + HeatmapHead."""
    stock = MODELS.build(_tiny_model(name, _mmpose(name))).eval()
    renamed = {
        k.replace('multi_deconv_layers.0', 'deconv_layers').replace(
            'multi_final_layers.0', 'final_layer'): v
        for k, v in model.state_dict().items()
    }
    missing, _ = stock.load_state_dict(renamed, strict=False)
    assert not missing
    return stock


@pytest.mark.parametrize('name', sorted(TYPES))
def test_equals_mmposes_model_or_a_hand_composed_reference(config_root, name):
    """H_1 of the DLMHead on ResNet-50 / HRNet-W32 is MMPose's own
    SimpleBaseline / HRNet prediction with the same weights, and mu_hat,
    sigma_hat are the regression of the pooled SFM output of the backbone's
    four outputs; the RFM hourglass under HeatmapHead is the 1x1 conv on the
    last stack's features; SG-HRNet under HeatmapHead with every map at 1 is
    MMPose's HRNet-W32 model."""
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(name, _load(config_root, name)))
    model.init_weights()
    model.eval()
    x = torch.rand(2, 3, 64, 64)
    head = model.head
    with torch.no_grad():
        out = _heatmaps(model, x)
        if name in DLM:
            expected = _heatmaps(_stock_equivalent(name, model), x)
            feats = model.backbone(x)
            assert len(feats) == 4
            pooled = head.sfm(feats)[0].mean((2, 3))
            reg = head.fc(pooled).view(2, 16, 4)
            mu, logit = head.forward_distribution(feats)
            torch.testing.assert_close(mu, reg[..., :2])
            torch.testing.assert_close(logit, reg[..., 2:])
        elif name == RFM:
            stack_feats, _ = model.backbone.forward_stacks(x)
            conv = head.final_layer
            assert isinstance(head.deconv_layers, torch.nn.Identity)
            expected = F.conv2d(stack_feats[-1], conv.weight, conv.bias)
        else:
            for sgm in (*model.backbone.stage_sgms, model.backbone.final_sgm):
                torch.nn.init.zeros_(sgm.seg_conv.weight)
                torch.nn.init.constant_(sgm.seg_conv.bias, 100.0)
            expected = _heatmaps(_stock_equivalent(name, model), x)
            assert not torch.equal(out, _heatmaps(model, x))  # maps gated it
            out = _heatmaps(model, x)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name', sorted(TYPES))
def test_tiny_copy_trains_and_tests_on_samples(config_root, samples_root,
                                               name):
    cfg = _load(config_root, name)
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(name, cfg))
    model.init_weights()
    train_set = mpii_samples_dataset(
        samples_root,
        with_codec(cfg.train_dataloader.dataset.pipeline, TINY_CODEC), False)
    test_set = mpii_samples_dataset(
        samples_root,
        with_codec(cfg.test_dataloader.dataset.pipeline, TINY_CODEC), True)
    model.dataset_meta = test_set.metainfo
    if name in DLM:  # every part of the DLM learns from the one step
        head = model.head
        parts = dict(sfm=head.sfm, regression=head.fc, flow=head.flow,
                     heatmap_conv=head.multi_final_layers)
        before = {k: copy.deepcopy(m.state_dict()) for k, m in parts.items()}
    logs = checked_train_step(model, cfg, train_set)
    if name in DLM:
        assert logs['loss_dlm'] > 0 and torch.isfinite(logs['loss_rle'])
        for key, module in parts.items():
            after = module.state_dict()
            assert any(not torch.equal(v, after[k])
                       for k, v in before[key].items()
                       if v.is_floating_point()), key
    # MMPose's test_cfg: flip test
    assert model.test_cfg['flip_test']
    checked_test_step(model, test_set, 16)
