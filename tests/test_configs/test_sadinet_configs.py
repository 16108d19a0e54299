import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper

from mmpose.registry import MODELS, TRANSFORMS
from _topdown_steps import (checked_test_step, evaluate_with_config,
                            mpii_samples_dataset)

MAIN = {
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py': 16,
    'sadinet_rfm-hourglass_2xb32-210e_lsp-256x256.py': 14,
}
# One-stack variant of the main MPII config.
VARIANTS = {'sadinet_rfm-hourglass1_2xb32-210e_mpii-256x256.py': 16}
MS6 = {
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256_ms6-flip-test.py',
    'sadinet_rfm-hourglass_2xb32-210e_lsp-256x256_ms6-flip-test.py',
}
# Tables 3-5: config -> (backbone, units, head, chi, MSE loss weight); units:
# 'rfm' (dilated branch + SE), 'basic' (Fig. 3(b) basic blocks, the paper's
# Hourglass), 'bottleneck' (Newell). Every row has 8 stacks.
ABLATIONS = {
    'td-hm_hourglass_2xb32-210e_mpii-256x256.py':
    ('DilatedHourglassNet', 'bottleneck', 'SPCNetHead', None, 1.0),
    'td-hm_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'rfm', 'SPCNetHead', None, 1.0),
    'td-hm_basic-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'basic', 'SPCNetHead', None, 1.0),
    'sadinet-sfm-dlm_hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'basic', 'DLMHead', 'sigma', 1.0),
    'sadinet-sum-loss_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'rfm', 'DLMHead', 0.5, 2.0),
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'rfm', 'DLMHead', 'sigma', 1.0),
}
TINY = {'sadinet_rfm-hourglass-tiny_1xb8-1e_toy-mpii-64x64.py'}


def _load(config_root, name):
    return Config.fromfile(osp.join(config_root, 'sadinet', name))


def _units(model):
    """'rfm', 'basic' or 'bottleneck': the residual units of a backbone."""
    kinds = set()
    for m in model.backbone.modules():
        name = type(m).__name__
        if name == 'ReceptiveFortifiedModule':
            full = m.dilated_conv is not None and m.se is not None
            bare = m.dilated_conv is None and m.se is None
            assert full or bare, 'half an RFM'
            kinds.add('rfm' if full else 'basic')
        elif name == 'Bottleneck':
            kinds.add('bottleneck')
    assert len(kinds) == 1, kinds
    return kinds.pop()


def test_every_config_is_listed(config_root):
    # CPU-tier variants (another suite's) are not SADI-Net paper configs.
    names = {
        osp.basename(p)
        for p in glob.glob(osp.join(config_root, 'sadinet', '*.py'))
        if 'cpu-tier' not in osp.basename(p)
    }
    assert names == set(MAIN) | set(VARIANTS) | MS6 | set(ABLATIONS) | TINY


@pytest.mark.parametrize('name', sorted(MAIN) + sorted(ABLATIONS) +
                         sorted(VARIANTS))
def test_stacks_with_intermediate_supervision(config_root, name):
    """8 stacks (the paper's Hourglass baseline) everywhere but the named
    one-stack variant; one supervised heatmap per stack."""
    cfg = _load(config_root, name)
    stacks = 1 if name in VARIANTS else 8
    assert cfg.model.backbone.num_stacks == stacks
    assert cfg.model.head.num_stacks == stacks


@pytest.mark.parametrize('name', sorted(MAIN))
def test_paper_training_settings(config_root, name):
    cfg = _load(config_root, name)
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.train_cfg.max_epochs == 210
    (step, ) = cfg.param_scheduler
    assert step.type == 'MultiStepLR' and step.milestones == [170, 200]
    assert step.gamma == 0.1
    pipeline = cfg.train_dataloader.dataset.pipeline
    flip = [t for t in pipeline if t.type == 'RandomFlip']
    assert len(flip) == 1 and flip[0].prob == 0.5
    bbox = TRANSFORMS.build(
        [t for t in pipeline if t.type == 'RandomBBoxTransform'][0])
    assert bbox.rotate_factor == 80 and bbox.scale_factor == (0.5, 1.5)
    target = [t for t in pipeline if t.type == 'GenerateTarget'][0]
    # the heatmap codec's targets and weights; mu_g from the packed
    # transformed keypoints
    assert target.encoder == cfg.codec and cfg.codec.type == 'MSRAHeatmap'
    pack = [t for t in pipeline if t.type == 'PackPoseInputs'][0]
    assert pack.pack_transformed
    k = MAIN[name]
    assert cfg.model.backbone.num_keypoints == cfg.model.head.out_channels == k
    metric = 'TorsoPCKAccuracy' if k == 14 else 'MpiiPCKAccuracy'
    assert cfg.test_evaluator.type == metric


@pytest.mark.parametrize('name', sorted(MS6))
def test_six_distinct_pyramid_scales_with_flip(config_root, name):
    cfg = _load(config_root, name)
    assert cfg.model.type == 'MultiScaleTopdownPoseEstimator'
    t = cfg.model.test_cfg
    assert t.flip_test and len(t.scales) == 6
    sizes = {
        max(t.size_divisor, round(256 * s / t.size_divisor) * t.size_divisor)
        for s in t.scales
    }
    assert len(sizes) == 6 and 256 in sizes


@pytest.mark.parametrize('name', sorted(ABLATIONS))
def test_ablation_configs_build_the_table_variants(config_root, name):
    backbone_type, units, head_type, chi, mse_weight = ABLATIONS[name]
    cfg = _load(config_root, name)
    assert cfg.model.backbone.type == backbone_type
    assert cfg.model.head.type == head_type
    assert cfg.model.head.loss.get('loss_weight', 1.0) == mse_weight
    if chi is not None:
        assert cfg.model.head.chi == chi
    # the units of the row, on a narrow copy (full size: ~200 M params)
    assert _units(MODELS.build(_tiny_model(cfg))) == units
    # training settings are shared by every row of a table
    main = _load(config_root,
                 'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py')
    assert cfg.train_dataloader == main.train_dataloader
    assert cfg.optim_wrapper == main.optim_wrapper


@pytest.mark.parametrize('name', sorted(TINY))
def test_tiny_train_and_test_step(config_root, tmp_path, name):
    from mmengine.runner import Runner
    cfg = _load(config_root, name)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.randomness = dict(seed=0)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = str(tmp_path / 'toy')
        loader.dataset.num_samples = 8
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None

    runner = Runner.from_cfg(cfg)
    flow = runner.model.head.flow
    before = [p.detach().clone() for p in flow.parameters()]
    runner.train()  # 8 images, batch 8: one step
    assert runner.iter == 1
    assert any(not torch.equal(b, p) for b, p in zip(before, flow.parameters()))
    metrics = runner.test()
    assert 0.0 <= metrics['PCK'] <= 100.0  # MpiiPCKAccuracy's PCKh


# Tiny copies of every non-tiny config: the sizes of the tiny config file
# (sadinet_rfm-hourglass-tiny_1xb8-1e_toy-mpii-64x64.py), every type and
# option (RFM on/off, basic blocks, SFM + DLM or SPCNetHead, chi, loss
# weights, MultiScale estimator, flip test) kept from the config itself.
TINY_CODEC = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)
TINY_LEVELS = (8, 16, 32, 64)
NON_TINY = {
    **{name: k
       for name, k in MAIN.items()},
    **{name: 16
       for name in ABLATIONS},
    **VARIANTS,
    **{name: (14 if '_lsp-' in name else 16)
       for name in MS6},
}


def _tiny_model(cfg):
    model = copy.deepcopy(cfg.model)
    backbone = model.backbone
    backbone.update(feat_channels=16, stem_channels=(8, 16))
    if backbone.type == 'RFMHourglassNet':
        if backbone.get('se_ratio') is not None:
            backbone.se_ratio = 4
        if backbone.get('level_channels', ()) is not None:
            backbone.level_channels = TINY_LEVELS
    head = model.head
    head.decoder = TINY_CODEC
    if head.type == 'DLMHead':
        head.sfm.update(
            in_channels=TINY_LEVELS,
            mid_channels=16,
            head_channels=tuple(2 * c for c in TINY_LEVELS),
            out_channels=256)
        head.flow_grid_size = 32
    else:
        head.in_channels = 16
    return model


def _tiny_pipeline(pipeline):
    pipeline = copy.deepcopy(pipeline)
    for t in pipeline:
        if t.type == 'TopdownAffine':
            t.input_size = TINY_CODEC['input_size']
        elif t.type == 'GenerateTarget':
            encoders = t.encoder if isinstance(t.encoder,
                                               (list, tuple)) else [t.encoder]
            for enc in encoders:  # keep the config's encoder type(s)
                enc.update(
                    input_size=TINY_CODEC['input_size'],
                    heatmap_size=TINY_CODEC['heatmap_size'],
                    sigma=TINY_CODEC['sigma'])
    return pipeline


def _samples_dataset(cfg, loader, samples_root, num_keypoints):
    """The config's own pipeline on the real MPII samples, mapped to the
    config's joints (LSP: the config's own MPII -> LSP converter)."""
    test_mode = loader is cfg.test_dataloader
    pipeline = _tiny_pipeline(loader.dataset.pipeline)
    if num_keypoints == 16:
        return mpii_samples_dataset(samples_root, pipeline, test_mode)
    return mpii_samples_dataset(samples_root, pipeline, test_mode,
                                cfg.dataset_mpii.pipeline, cfg.dataset_info)


def _one_train_step(model, cfg, train_set):
    """One step of the config's own optimizer: finite losses, a positive
    heatmap loss, and every part with parameters updated."""
    model.train()
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    assert type(optim.optimizer).__name__ == cfg.optim_wrapper.optimizer.type
    before = copy.deepcopy(model.state_dict())
    logs = model.train_step(pseudo_collate([train_set[0], train_set[1]]),
                            optim)
    losses = {k: v for k, v in logs.items() if k.startswith('loss')}
    assert 'loss_kpt' in losses
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
    assert logs['loss_kpt'] > 0
    after = model.state_dict()
    for part in ('backbone.', 'head.'):  # SPCNetHead(use_fused=False):
        if not any(n.startswith(part) for n in after):  # no parameters
            continue
        assert any(not torch.equal(v, after[n]) for n, v in before.items()
                   if n.startswith(part) and v.is_floating_point()), part


@pytest.mark.parametrize('name', sorted(NON_TINY))
def test_tiny_variant_train_and_test_step(config_root, samples_root, name):
    cfg = _load(config_root, name)
    k = NON_TINY[name]
    tiny = _tiny_model(cfg)
    # the copy keeps the config's architecture choices
    for key in ('type', 'test_cfg'):
        assert tiny.get(key) == cfg.model.get(key)
    assert tiny.backbone.type == cfg.model.backbone.type
    assert tiny.head.type == cfg.model.head.type
    assert tiny.backbone.num_keypoints == tiny.head.out_channels == k
    torch.manual_seed(0)
    model = MODELS.build(tiny)
    if name in ABLATIONS:  # the table row's units survive the shrinking
        assert _units(model) == ABLATIONS[name][1]
        if ABLATIONS[name][3] is not None:
            assert model.head.chi == ABLATIONS[name][3]
    train_set = _samples_dataset(cfg, cfg.train_dataloader, samples_root, k)
    test_set = _samples_dataset(cfg, cfg.test_dataloader, samples_root, k)
    model.dataset_meta = test_set.metainfo
    # the *_ms6-flip-test configs train as their base config: test step only
    if name not in MS6:
        _one_train_step(model, cfg, train_set)

    preds, batch = checked_test_step(model, test_set, k)
    # the config's own evaluator accepts the predictions
    if k == 14:  # LSP: TorsoPCKAccuracy (MPII's needs the headbox file)
        metrics = evaluate_with_config(cfg, preds, batch, test_set.metainfo)
        assert 0 <= metrics['PCK'] <= 100
