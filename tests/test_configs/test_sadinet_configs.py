import copy
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper

from mmpose.registry import MODELS, TRANSFORMS
from _topdown_steps import (checked_test_step, config_changes,
                            evaluate_with_config, mpii_samples_dataset)

MAIN = {
    'sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py': 16,
    'sadinet_rfm-hourglass8_2xb32-210e_lsp-256x256.py': 14,
}
# One-stack variant of the main MPII config.
VARIANTS = {'sadinet_rfm-hourglass1_2xb32-210e_mpii-256x256.py': 16}
MS6 = {
    'sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256_ms6-flip-test.py',
    'sadinet_rfm-hourglass8_2xb32-210e_lsp-256x256_ms6-flip-test.py',
}
# Tables 3-5: config -> (backbone, units, head, chi, MSE loss weight); units:
# 'rfm' (dilated branch + SE), 'basic' (Fig. 3(b) basic blocks, the paper's
# Hourglass), 'bottleneck' (Newell). Every row has 8 stacks.
ABLATIONS = {
    'td-hm_hourglass8_2xb32-210e_mpii-256x256.py':
    ('DilatedHourglassNet', 'bottleneck', 'SPCNetHead', None, 1.0),
    'td-hm_rfm-hourglass8_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'rfm', 'SPCNetHead', None, 1.0),
    'td-hm_basic-hourglass8_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'basic', 'SPCNetHead', None, 1.0),
    'sadinet-sfm-dlm_hourglass8_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'basic', 'DLMHead', 'sigma', 1.0),
    'sadinet-sum-loss_rfm-hourglass8_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'rfm', 'DLMHead', 0.5, 2.0),
    'sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', 'rfm', 'DLMHead', 'sigma', 1.0),
}
# Readings of Eq. 7-8 (README "Coupling"): config -> (the backbone's
# feature_grad_scale, the head's h2_mode). The first is the default, the
# detached reading chosen by held-out accuracy; the second the paper's
# coupled reading.
READINGS = {
    'sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py': (0.0, 'flow_only'),
    'sadinet-coupled_rfm-hourglass8_2xb32-210e_mpii-256x256.py':
    (1.0, 'coupled'),
    'sadinet-learned-target_rfm-hourglass8_2xb32-210e_mpii-256x256.py':
    (1.0, 'learned_target'),
    'sadinet-learned-target-sfm-likelihood_rfm-hourglass8_2xb32-210e_mpii-256x256.py':  # noqa: E501
    (0.0, 'learned_target'),
}
DEFAULT_COUPLING = (0.0, 'flow_only')
# The CPU-tier LSP configs of the held-out comparison (README "Coupling"):
# config -> (its base, the model keys it changes, (scale, h2_mode) or None
# for a model without the DLM).
CPU_TIER_LSP = 'cpu_tier/sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py'  # noqa: E501
CPU_TIER_READINGS = {
    'cpu_tier/ablations/sadinet-coupled_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py':  # noqa: E501
    (1.0, 'coupled'),
    'cpu_tier/ablations/sadinet-grad-scale-0p1_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py':  # noqa: E501
    (0.1, 'coupled'),
    'cpu_tier/ablations/sadinet-learned-target_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py':  # noqa: E501
    (1.0, 'learned_target'),
    'cpu_tier/ablations/sadinet-learned-target-sfm-likelihood_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py':  # noqa: E501
    (0.0, 'learned_target'),
}
CPU_TIER_RFM_ONLY = {
    'cpu_tier/ablations/td-hm_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py':  # noqa: E501
    'cpu_tier/td-hm_basic-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py',
    'cpu_tier/ablations/td-hm_rfm-hourglass2-cpu-tier_1xb16-210e_mpii-128x128.py':  # noqa: E501
    'cpu_tier/td-hm_basic-hourglass2-cpu-tier_1xb16-210e_mpii-128x128.py',
}
# Table 4's "Hourglass + SFM-DLM" row at the CPU tier.
CPU_TIER_SFM_DLM = 'cpu_tier/ablations/sadinet-sfm-dlm_hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py'  # noqa: E501
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
    assert names == (set(MAIN) | set(VARIANTS) | MS6 | set(ABLATIONS) | TINY
                     | set(READINGS))


def _sample_batch(cfg, model, samples_root, k, n=2):
    """n real MPII samples through the config's train pipeline (narrowed to
    64x64) and the model's data preprocessor."""
    train_set = _samples_dataset(cfg, cfg.train_dataloader, samples_root, k)
    return model.data_preprocessor(
        pseudo_collate([train_set[i] for i in range(n)]), training=True)


@pytest.mark.parametrize('name',
                         sorted(set(MAIN) | set(ABLATIONS) | set(VARIANTS)))
def test_stacks_with_intermediate_supervision(config_root, samples_root,
                                              name):
    """8 stacks (the paper's Hourglass baseline) everywhere but the named
    one-stack variant; one supervised heatmap per stack: the built model
    (narrowed) has that many hourglasses, its head one heatmap conv per stack
    and the heatmap loss reaches every stack's heatmap."""
    cfg = _load(config_root, name)
    stacks = 1 if name in VARIANTS else 8
    k = MAIN.get(name, 16)
    model = MODELS.build(_tiny_model(cfg))
    model.train()
    assert len(model.head.multi_final_layers) == stacks
    data = _sample_batch(cfg, model, samples_root, k)
    heatmaps = []

    def keep(module, inputs, out):
        out.retain_grad()
        heatmaps.append(out)

    for conv in model.head.multi_final_layers:
        conv.register_forward_hook(keep)
    model(**data, mode='loss')['loss_kpt'].backward()
    assert len(model.backbone.hourglasses) == len(heatmaps) == stacks
    assert all(h.grad is not None and h.grad.abs().sum() > 0
               for h in heatmaps)


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
    assert cfg.model.head.out_channels == k
    # the head's heatmap convs read the hourglass's width (RFMHourglassNet's
    # default feat_channels)
    assert cfg.model.head.in_channels == 256
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
                 'sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py')
    assert cfg.train_dataloader == main.train_dataloader
    assert cfg.optim_wrapper == main.optim_wrapper


def _errors(preds, samples):
    """Per-joint distances |prediction - ground truth| (N, K), the labelled
    joints (N, K) and the ground truth (N, K, 2)."""
    pred = np.concatenate([p.pred_instances.keypoints for p in preds])
    gt = np.concatenate([s.gt_instances.keypoints for s in samples])
    mask = np.concatenate(
        [s.gt_instances.keypoints_visible for s in samples]) > 0
    if mask.ndim == 3:  # KeypointConverter's (N, K, 2) visibilities
        mask = mask[..., 0]
    return np.linalg.norm(pred - gt, axis=-1), mask, gt


@pytest.mark.parametrize('name', sorted(TINY))
def test_tiny_train_and_test_step(config_root, tmp_path, name):
    """The Runner trains the tiny config one step, every part of SADI-Net
    (hourglass, heatmap convs, SFM, regression, flow) learning from it, and
    its test() scores the trained model's predictions: their mean error
    (EPE, added to the config's evaluator; the PCKh of a one-step model is
    0) equals the one recomputed by hand from ``model.test_step``."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    cfg = _load(config_root, name)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.randomness = dict(seed=0)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = str(tmp_path / 'toy')
        loader.dataset.num_samples = 8
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_evaluator = [cfg.test_evaluator, dict(type='EPE')]

    runner = Runner.from_cfg(cfg)
    head = runner.model.head
    parts = dict(
        hourglass=runner.model.backbone.hourglasses,
        heatmap_convs=head.multi_final_layers,
        sfm=head.sfm,
        regression=head.fc,
        flow=head.flow)
    before = {}

    class Before(Hook):

        def before_train(self, runner):  # after the weights' init
            before.update({
                k: [p.detach().clone() for p in m.parameters()]
                for k, m in parts.items()
            })

    runner.register_hook(Before())
    runner.train()  # 8 images, batch 8: one step
    assert runner.iter == 1
    for key, module in parts.items():
        assert any(not torch.equal(b, p)
                   for b, p in zip(before[key], module.parameters())), key
    metrics = runner.test()

    preds, samples = [], []
    with torch.no_grad():
        for batch in runner.test_dataloader:
            preds += runner.model.test_step(batch)
            samples += batch['data_samples']
    err, mask, _ = _errors(preds, samples)
    assert err[mask].mean() > 1.0  # pixels: a one-step model is far off
    assert metrics['EPE'] == pytest.approx(err[mask].mean(), rel=1e-5)
    assert 'PCK' in metrics  # the config's MpiiPCKAccuracy ran too


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
    CPU_TIER_SFM_DLM: 14,
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
    assert tiny.head.out_channels == k
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
    # the config's own evaluator scores predictions: PCK@0.2 of the torso
    # (left shoulder to right hip), recomputed by hand; on predictions
    # moved off the ground truth by 0.1 or 0.3 torso sizes (alternate
    # joints), as the tiny model's own are all far off (PCK 0)
    if k == 14:  # LSP: TorsoPCKAccuracy (MPII's needs the headbox file)
        ids = test_set.metainfo['keypoint_name2id']
        _, mask, gt = _errors(preds, batch['data_samples'])
        torso = np.linalg.norm(
            gt[:, ids['left_shoulder']] - gt[:, ids['right_hip']], axis=-1)
        shift = np.where(np.arange(k) % 2, 0.3, 0.1)
        for p, g, t in zip(preds, gt, torso):
            p.pred_instances.keypoints = (g + shift[:, None] * t)[None]
        metrics = evaluate_with_config(cfg, preds, batch, test_set.metainfo)
        err, _, _ = _errors(preds, batch['data_samples'])
        hits = (err < 0.2 * torso[:, None])[mask]
        assert 0 < hits.mean() < 1
        assert metrics['PCK'] == pytest.approx(100 * hits.mean())


MAIN_MPII = 'sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py'


def _hourglass(model):
    """The hourglass's parameters (without the 1x1 projections to F_n)."""
    return [
        p for n, p in model.backbone.named_parameters()
        if not n.startswith('level_projections')
    ]


def _grad_sum(params) -> float:
    return float(sum(p.grad.abs().sum() for p in params
                     if p.grad is not None))


def _coupling(cfg):
    return (cfg.model.backbone.get('feature_grad_scale', 1.0),
            cfg.model.head.get('h2_mode', 'coupled'))


@pytest.mark.parametrize('name', sorted(READINGS))
def test_readings_of_eq7_and_what_each_term_trains(config_root, samples_root,
                                                   name):
    """On a real batch (narrowed model): the paper's coupled reading sends
    the gradients of L(H2) and of the likelihood into the hourglass, the SFM
    and the DLM; the learned-target readings send L(H2) into the hourglass
    through H1, and the likelihood into the SFM and the flow, and into the
    hourglass where feature_grad_scale > 0; the detached default lets
    neither reach the hourglass. The readings differ from the main config in
    the coupling keys only."""
    scale, mode = READINGS[name]
    cfg = _load(config_root, name)
    assert _coupling(cfg) == (scale, mode)
    main = _load(config_root, MAIN_MPII)
    assert _coupling(main) == DEFAULT_COUPLING
    main.model.backbone.feature_grad_scale = scale
    main.model.head.h2_mode = mode
    cfg.model.backbone.feature_grad_scale = scale
    cfg.model.head.h2_mode = mode
    assert cfg.model == main.model

    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(cfg))
    model.init_weights()
    model.train()
    assert _units(model) == 'rfm'
    assert len(model.backbone.hourglasses) == model.head.num_stacks == 8
    assert model.backbone.feature_grad_scale == scale
    assert model.head.h2_mode == mode
    data = _sample_batch(cfg, model, samples_root, 16)
    losses = model(**data, mode='loss')
    head = model.head
    parts = dict(
        hourglass=_hourglass(model),
        sfm_dlm=list(head.sfm.parameters()) + list(head.fc.parameters()),
        flow=list(head.flow.parameters()))

    def reached(key):
        model.zero_grad()
        losses[key].backward(retain_graph=True)
        return {part: _grad_sum(ps) > 0 for part, ps in parts.items()}

    assert losses['loss_dlm'] > 0
    h2 = reached('loss_dlm')
    rle = reached('loss_rle')
    if mode == 'coupled':
        assert h2 == dict(hourglass=True, sfm_dlm=True, flow=True)
    elif mode == 'learned_target':
        assert h2 == dict(hourglass=True, sfm_dlm=False, flow=False)
    else:
        assert h2 == dict(hourglass=False, sfm_dlm=False, flow=True)
    assert rle == dict(hourglass=scale > 0, sfm_dlm=True, flow=True)


def test_default_runs_and_trains_the_rfm_sfm_and_dlm(config_root,
                                                     samples_root):
    """The three modules of the default config are there, run in a
    training step and learn from its one loss: fails when the RFM's
    dilated branch or SE, the SFM's global or local attention, or the DLM
    (regression, flow) is deleted or bypassed."""
    from collections import Counter

    from mmpose_attn.models.backbones.rfm_hourglass import \
        ReceptiveFortifiedModule
    cfg = _load(config_root, MAIN_MPII)
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(cfg))
    model.init_weights()
    model.train()
    assert _units(model) == 'rfm'
    rfms = [
        m for m in model.backbone.modules()
        if isinstance(m, ReceptiveFortifiedModule)
    ]
    sfm = model.head.sfm
    calls = Counter()

    def count(key):
        """Counts the calls of a module that changed its input."""

        def first(x):
            while isinstance(x, (tuple, list)):
                x = x[0]
            return x

        def hook(module, inputs, out):
            out, x = first(out), first(inputs)
            if out.shape != x.shape or not torch.allclose(out, x):
                calls.update([key])

        return hook

    for m in rfms:
        m.dilated_conv.register_forward_hook(count('dilated'))
        m.se.register_forward_hook(count('se'))
    sfm.global_attention.register_forward_hook(count('global'))
    sfm.local_attention.register_forward_hook(count('local'))
    data = _sample_batch(cfg, model, samples_root, 16)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert calls['dilated'] == calls['se'] == len(rfms) > 0
    assert calls['global'] == 1
    assert calls['local'] == len(sfm.in_channels) - 1
    modules = dict(
        dilated=[m.dilated_conv for m in rfms],
        se=[m.se for m in rfms],
        sfm=[sfm],
        dlm=[model.head.fc, model.head.flow])
    for key, mods in modules.items():
        for m in mods:
            for n, p in m.named_parameters():
                assert p.grad is not None and p.grad.any(), (key, n)


@pytest.mark.parametrize('rel', sorted(CPU_TIER_READINGS))
def test_cpu_tier_readings_change_the_coupling_only(config_root, rel):
    """The held-out comparison's LSP CPU-tier readings: the SADI-Net LSP CPU
    tier with only the coupling keys changed."""
    scale, mode = CPU_TIER_READINGS[rel]
    cfg = _load(config_root, rel)
    base = _load(config_root, CPU_TIER_LSP)
    assert _coupling(base) == DEFAULT_COUPLING
    assert _coupling(cfg) == (scale, mode)
    coupling = {
        'model.backbone.feature_grad_scale': scale,
        'model.head.h2_mode': mode
    }
    assert config_changes(cfg, base) == {
        k: v
        for k, v, default in zip(coupling, coupling.values(),
                                 DEFAULT_COUPLING) if v != default
    }


@pytest.mark.parametrize('rel', sorted(CPU_TIER_RFM_ONLY))
def test_cpu_tier_rfm_only_is_the_baseline_with_rfm_units(config_root, rel):
    """Table 3's RFM row at the CPU tier: the CPU-tier basic-block baseline
    with the RFM's dilated branch and SE, nothing else."""
    cfg = _load(config_root, rel)
    basic = _load(config_root, CPU_TIER_RFM_ONLY[rel])
    assert cfg.model.backbone.se_ratio == 16
    assert cfg.model.backbone.get('dilated_branch', True)
    assert cfg.model.backbone.level_channels is None
    assert config_changes(cfg, basic) == {
        'model.backbone.se_ratio': 16,
        'model.backbone.dilated_branch': True
    }
    assert _units(MODELS.build(_tiny_model(cfg))) == 'rfm'


def test_cpu_tier_sfm_dlm_is_sadinet_on_basic_units(config_root):
    """Table 4's "Hourglass + SFM-DLM" at the CPU tier: the SADI-Net LSP CPU
    tier (SFM, DLM, default coupling) with the basic-block units of the
    CPU-tier baseline, nothing else."""
    cfg = _load(config_root, CPU_TIER_SFM_DLM)
    assert config_changes(cfg, _load(config_root, CPU_TIER_LSP)) == {
        'model.backbone.se_ratio': None,
        'model.backbone.dilated_branch': False
    }
    assert _coupling(cfg) == DEFAULT_COUPLING
    model = MODELS.build(_tiny_model(cfg))
    assert _units(model) == 'basic'
    assert type(model.head).__name__ == 'DLMHead'
