"""The CPU tier (``configs/<paper>/cpu_tier/``): each config is its paper
config (or that config's baseline) with only sizes changed, and trains and
tests one step through its own pipeline, optimizer and metric on the real
samples."""
import copy
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper

from mmpose.registry import DATASETS, MODELS
from mmpose_attn.data import SAMPLES_ROOT
from mmpose_attn.tools.analysis.compare_training import overfit_config

from _topdown_steps import check_torso_pck, checked_test_step, config_changes

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
CPU_TIER = sorted(
    osp.relpath(p, CONFIG_ROOT)
    for p in glob.glob(osp.join(CONFIG_ROOT, '*', 'cpu_tier', '*.py')))
# CPU-tier config -> (paper config it shrinks, its input (h, w), joints)
PAPER = {
    'spcnet/cpu_tier/spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_mpii-128x128.py':  # noqa: E501
    ('spcnet/spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py',
     (128, 128), 16),
    'spcnet/cpu_tier/spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py':  # noqa: E501
    ('spcnet/spcnet_dilated-hourglass8-r2_4xb12-170e_lsp-256x256.py',
     (128, 128), 14),
    'spcnet/cpu_tier/td-hm_hourglass2-cpu-tier_1xb16-170e_mpii-128x128.py':
    ('spcnet/td-hm_hourglass8_4xb12-170e_mpii-256x256.py', (128, 128), 16),
    'spcnet/cpu_tier/td-hm_hourglass2-cpu-tier_1xb16-170e_lsp-128x128.py':
    ('spcnet/td-hm_hourglass8_4xb12-170e_mpii-256x256.py', (128, 128), 14),
    'sadinet/cpu_tier/sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_mpii-128x128.py':  # noqa: E501
    ('sadinet/sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py', (128, 128),
     16),
    'sadinet/cpu_tier/sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py':  # noqa: E501
    ('sadinet/sadinet_rfm-hourglass8_2xb32-210e_lsp-256x256.py', (128, 128),
     14),
    'sadinet/cpu_tier/td-hm_basic-hourglass2-cpu-tier_1xb16-210e_mpii-128x128.py':  # noqa: E501
    ('sadinet/td-hm_basic-hourglass8_2xb32-210e_mpii-256x256.py', (128, 128),
     16),
    'sadinet/cpu_tier/td-hm_basic-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py':  # noqa: E501
    ('sadinet/td-hm_basic-hourglass8_2xb32-210e_mpii-256x256.py', (128, 128),
     14),
    'sghrnet/cpu_tier/sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_mpii-128x96.py':  # noqa: E501
    ('sghrnet/sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py', (128, 96), 16),
    'sghrnet/cpu_tier/sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py':  # noqa: E501
    ('sghrnet/sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py', (128, 96), 14),
    'sghrnet/cpu_tier/sghrnet-self-gating_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py':  # noqa: E501
    ('sghrnet/sghrnet-self-gating_hrnet-w32_1xb32-210e_mpii-256x192.py',
     (128, 96), 14),
    'sghrnet/cpu_tier/td-hm_hrnet-w8-small-cpu-tier_1xb16-210e_mpii-128x96.py':  # noqa: E501
    ('mmpose::body_2d_keypoint/topdown_heatmap/mpii/'
     'td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py', (128, 96), 16),
    'sghrnet/cpu_tier/td-hm_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py':  # noqa: E501
    ('mmpose::body_2d_keypoint/topdown_heatmap/mpii/'
     'td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py', (128, 96), 14),
    'samkr/cpu_tier/samkr_hrnet-w8-small-cpu-tier_1xb16-140e_coco-256x256.py':  # noqa: E501
    ('samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py', (256, 256), 17),
    'samkr/cpu_tier/dekr_hrnet-w8-small-cpu-tier_1xb16-140e_coco-256x256.py':  # noqa: E501
    ('samkr/dekr_hrnet-w32_8xb10-140e_coco-512x512.py', (256, 256), 17),
}
# CPU-tier ablations of the held-out tables (configs/<paper>/cpu_tier/
# ablations/; SADI-Net's are in test_sadinet_configs.py) -> (the CPU-tier
# config each varies, every resolved setting it changes: dotted path ->
# value). SG-HRNet's radii are Table 3's r = 3 and 9 halved with the
# resolution, as the CPU tier's 2.5 is the paper's r = 5.
_SG_LSP = 'sghrnet/cpu_tier/sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py'  # noqa: E501
ABLATIONS_R3 = 'sghrnet/cpu_tier/ablations/sghrnet-r3_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py'  # noqa: E501
ABLATIONS_R9 = ABLATIONS_R3.replace('-r3_', '-r9_')
_SPC_LSP = 'spcnet/cpu_tier/spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py'  # noqa: E501


def _radius(r):
    return {
        'codec.radius': r,
        'model.head.decoder.radius': r,
        'train_dataloader.dataset.pipeline.5.encoder.radius': r
    }


def _width(keys, channels):
    return {f'model.{k}': channels for k in keys}


def _hrnet_width(w):
    """HRNet's branch widths (w, 2w, 4w, 8w; stage 1's bottleneck: 2w, as
    HRNet-W32's 64) and the head's, leaf by leaf."""
    stage_widths = {1: [2 * w]}
    stage_widths.update({i: [w * 2**b for b in range(i)] for i in (2, 3, 4)})
    changes = {
        f'model.backbone.extra.stage{i}.num_channels.{b}': c
        for i, widths in stage_widths.items() for b, c in enumerate(widths)
    }
    changes['model.head.in_channels'] = w
    return changes


ABLATIONS = {
    'spcnet/cpu_tier/ablations/td-hm_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py':  # noqa: E501
    ('spcnet/cpu_tier/td-hm_hourglass2-cpu-tier_1xb16-170e_lsp-128x128.py', {
        'model.backbone.num_downsamples': 2,
        'model.backbone.dilation': 2,
        'model.backbone.dilated_blocks': True
    }),
    'spcnet/cpu_tier/ablations/spcnet-sum_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py':  # noqa: E501
    (_SPC_LSP, {'model.neck.fusion': 'sum'}),
    'spcnet/cpu_tier/ablations/spcnet-concat_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py':  # noqa: E501
    (_SPC_LSP, {'model.neck.fusion': 'concat'}),
    ABLATIONS_R3: (_SG_LSP, _radius(1.5)),
    ABLATIONS_R9: (_SG_LSP, _radius(4.5)),
    # the width check of the CPU tier (issue 19, item 4)
    'spcnet/cpu_tier/ablations/td-hm_hourglass2-c64-cpu-tier_1xb16-170e_lsp-128x128.py':  # noqa: E501
    ('spcnet/cpu_tier/td-hm_hourglass2-cpu-tier_1xb16-170e_lsp-128x128.py',
     _width(('backbone.feat_channels', 'head.in_channels'), 64)),
    'spcnet/cpu_tier/ablations/spcnet_dilated-hourglass2-r2-c64-cpu-tier_1xb16-170e_lsp-128x128.py':  # noqa: E501
    (_SPC_LSP,
     _width(('backbone.feat_channels', 'neck.in_channels',
             'neck.out_channels', 'head.in_channels'), 64)),
    'sghrnet/cpu_tier/ablations/td-hm_hrnet-w16-small-cpu-tier_1xb16-210e_lsp-128x96.py':  # noqa: E501
    ('sghrnet/cpu_tier/td-hm_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py',
     _hrnet_width(16)),
    'sghrnet/cpu_tier/ablations/sghrnet_hrnet-w16-small-cpu-tier_1xb16-210e_lsp-128x96.py':  # noqa: E501
    (_SG_LSP, _hrnet_width(16)),
}


def _load(rel):
    if rel.startswith('mmpose::'):
        from mmengine.hub import get_config
        return get_config(rel)
    return Config.fromfile(osp.join(CONFIG_ROOT, rel))


def _unscoped(cfg):
    # mmengine adds `_scope_` to dicts inherited through `mmpose::` bases
    return {k: v for k, v in cfg.items() if k != '_scope_'}


def _types(pipeline):
    return [t['type'] for t in pipeline]


def _model_types(model):
    """The type of every module config in a model config."""
    if isinstance(model, dict):
        # pretrained weights are dropped: the CPU tier trains from scratch
        found = {model['type']} if model.get('type') not in (
            None, 'Pretrained') else set()
        for value in model.values():
            found |= _model_types(value)
        return found
    if isinstance(model, (list, tuple)):
        return set().union(*map(_model_types, model)) if model else set()
    return set()


def test_every_cpu_tier_config_is_listed():
    assert set(CPU_TIER) == set(PAPER)
    assert set(ABLATIONS) == {
        osp.relpath(p, CONFIG_ROOT)
        for paper in ('spcnet', 'sghrnet')
        for p in glob.glob(
            osp.join(CONFIG_ROOT, paper, 'cpu_tier', 'ablations', '*.py'))
    }


@pytest.mark.parametrize('rel', sorted(ABLATIONS))
def test_ablation_changes_only_its_settings(rel):
    base_rel, changes = ABLATIONS[rel]
    assert config_changes(_load(rel), _load(base_rel)) == changes


@pytest.mark.parametrize('rel', sorted(PAPER))
def test_only_sizes_differ_from_the_paper_config(rel):
    cfg = _load(rel)
    paper_rel, (h, w), k = PAPER[rel]
    paper = _load(paper_rel)
    assert cfg.train_dataloader.batch_size == 16
    # the input size, in the name, the codec and every pipeline
    assert f'-{h}x{w}' in rel
    assert tuple(cfg.codec.input_size) == (w, h)
    # the decoder is the codec, but for SAMKR's test-time heatmap matching
    # (its own decoder type and settings, as in the paper config)
    decoder = _unscoped(cfg.model.head.decoder)
    paper_decoder = _unscoped(paper.model.head.decoder)
    codec = _unscoped(cfg.codec)
    matching = {k: decoder.pop(k) for k in list(decoder)
                if k.startswith('match_')}
    assert matching == {
        k: v
        for k, v in paper_decoder.items() if k.startswith('match_')
    }
    assert decoder.pop('type') in (codec.pop('type'), paper_decoder['type'])
    assert decoder == codec
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        for t in loader.dataset.pipeline:
            if 'input_size' in t:
                assert tuple(t.input_size) == (w, h)
            if t['type'] == 'GenerateTarget':
                assert _unscoped(t.encoder) == _unscoped(cfg.codec)
    if paper_rel.startswith('mmpose::'):
        # SG-HRNet's baseline: MMPose's HRNet-W32 modules and loss, trained
        # with SG-HRNet's recipe (the SG-HRNet CPU tier it inherits)
        assert _model_types(cfg.model) >= {'HRNet', 'HeatmapHead'}
        assert not _model_types(cfg.model) & {'SGHRNet', 'SGHeatmapHead'}
        sg = _load(rel.replace('td-hm_', 'sghrnet_'))
        assert cfg.optim_wrapper == sg.optim_wrapper
        assert _types(cfg.train_dataloader.dataset.pipeline) == _types(
            sg.train_dataloader.dataset.pipeline)
        return
    assert _model_types(cfg.model) == _model_types(paper.model)
    assert cfg.optim_wrapper == paper.optim_wrapper
    assert cfg.param_scheduler == paper.param_scheduler
    assert cfg.train_cfg == paper.train_cfg
    if k == paper.model.head.get('out_channels',
                                 paper.model.head.get('num_keypoints')):
        assert cfg.val_evaluator == paper.val_evaluator
        assert cfg.train_dataloader.dataset.get('ann_file') == \
            paper.train_dataloader.dataset.get('ann_file')
    # the same augmentation, at the smaller size
    for loader in ('train_dataloader', 'test_dataloader'):
        ours = cfg[loader].dataset.pipeline
        theirs = paper[loader].dataset.pipeline
        assert _types(ours) == _types(theirs)
        for a, b in zip(ours, theirs):
            if a['type'] in ('RandomBBoxTransform', 'RandomFlip',
                             'BottomupRandomAffine'):
                assert {n: v for n, v in a.items() if n != 'input_size'} \
                    == {n: v for n, v in b.items() if n != 'input_size'}


def _keypoints(cfg):
    head = cfg.model.head
    return head.get('out_channels', head.get('num_keypoints'))


def test_sghrnet_radius_ablations_reach_the_segmentation_target():
    """One sample, one augmentation, through the r = 3, 5, 9 CPU-tier
    pipelines: each target covers exactly the heatmap pixels within its
    radius of a labelled keypoint (Eq. 2, a slow per-pixel reference)."""
    areas = []
    for rel in (ABLATIONS_R3, _SG_LSP, ABLATIONS_R9):
        cfg = _load(rel)
        samples = overfit_config(copy.deepcopy(cfg))
        samples.train_dataloader.dataset.pipeline = \
            cfg.train_dataloader.dataset.pipeline
        dataset = DATASETS.build(samples.train_dataloader.dataset)
        np.random.seed(0)  # the same flip, scale and rotation each time
        results = dataset.get_data_info(0)
        for transform in dataset.pipeline.transforms[:-1]:  # not packed
            results = transform(results)
        codec = cfg.codec
        w, h = codec.heatmap_size
        scale = np.array(codec.input_size) / np.array(codec.heatmap_size)
        labelled = results['transformed_keypoints'][
            results['keypoints_visible'] >= 0.5] / scale
        ys, xs = np.mgrid[:h, :w]
        dist = np.hypot(xs[..., None] - labelled[:, 0],
                        ys[..., None] - labelled[:, 1]).min(-1)
        expected = dist <= codec.radius
        np.testing.assert_array_equal(results['seg_map'][0], expected)
        areas.append(expected.sum())
    assert areas[0] < areas[1] < areas[2]


TOPDOWN = [r for r in sorted(PAPER) if not r.startswith('samkr/')]
KEYPOINTS = {
    **{rel: PAPER[rel][2]
       for rel in TOPDOWN},
    **{rel: 14
       for rel in ABLATIONS}
}


@pytest.mark.parametrize('rel', sorted(KEYPOINTS))
def test_one_train_and_test_step_on_the_mpii_samples(rel):
    """The config as is (model, pipelines, optimizer, metric) on the five
    MPII samples; LSP configs see them through their own MPII -> LSP
    converter."""
    cfg = _load(rel)
    k = KEYPOINTS[rel]
    assert _keypoints(cfg) == k
    samples = overfit_config(copy.deepcopy(cfg))
    # overfit_config drops the random augmentation; keep the config's own
    samples.train_dataloader.dataset.pipeline = \
        cfg.train_dataloader.dataset.pipeline
    train_set = DATASETS.build(samples.train_dataloader.dataset)
    test_set = DATASETS.build(samples.test_dataloader.dataset)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.dataset_meta = test_set.metainfo
    model.train()
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    before = copy.deepcopy(model.state_dict())
    logs = model.train_step(pseudo_collate([train_set[0], train_set[1]]),
                            optim)
    assert torch.isfinite(logs['loss_kpt']) and logs['loss_kpt'] > 0
    after = model.state_dict()
    changed = {n.split('.')[0] for n, v in before.items()
               if v.is_floating_point() and not torch.equal(v, after[n])}
    # (the baselines' heads have no parameters: the hourglass predicts)
    assert 'backbone' in changed
    assert 'head' in changed or not any(
        p.requires_grad for p in model.head.parameters())

    preds, batch = checked_test_step(model, test_set, k)
    if k == 14:  # LSP: the config's own metric is torso PCK@0.2
        check_torso_pck(cfg, preds, batch, test_set.metainfo)


@pytest.mark.parametrize(
    'rel', [r for r in sorted(PAPER) if r.startswith('samkr/')])
def test_one_bottomup_train_and_test_step_on_the_coco_samples(rel):
    cfg = _load(rel)
    coco = osp.join(SAMPLES_ROOT, 'coco')

    def samples(loader):
        return DATASETS.build(
            dict(
                type=loader.dataset.type,
                data_mode='bottomup',
                data_root=coco,
                ann_file='test_coco.json',
                data_prefix=dict(img=''),
                pipeline=loader.dataset.pipeline,
                test_mode=loader is cfg.test_dataloader))

    train_set, test_set = samples(cfg.train_dataloader), samples(
        cfg.test_dataloader)
    assert train_set[0]['inputs'].shape[-2:] == (256, 256)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.dataset_meta = test_set.metainfo
    model.train()
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    logs = model.train_step(pseudo_collate([train_set[0]]), optim)
    losses = [v for n, v in logs.items() if n.startswith('loss')]
    assert losses and all(torch.isfinite(v) for v in losses)

    model.eval()
    with torch.no_grad():
        preds = model.test_step(pseudo_collate([test_set[0]]))
    keypoints = preds[0].pred_instances.keypoints
    assert keypoints.shape[1:] == (17, 2)
