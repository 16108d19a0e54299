import copy
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import load_checkpoint
from mmpose.models.backbones import HRNet
from mmpose.models.heads import HeatmapHead
from mmpose.registry import DATASETS, MODELS
from _topdown_steps import checked_test_step

from mmpose_attn.models.backbones import SGHRNet
from mmpose_attn.models.heads import SGHeatmapHead

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'sghrnet')
CONFIGS = sorted(
    osp.basename(p) for p in glob.glob(osp.join(CONFIG_DIR, '*.py')))
TINY = 'sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py'
COCO = 'sghrnet_hrnet-w32_1xb32-210e_coco-256x192.py'
# MPII: paper-literal (256x192, bilinear fusion upsampling) and HRNet's MPII
# input (256x256, nearest), each with the radii of Table 3
MPII = {(size, r): ('sghrnet' if r == 5 else f'sghrnet-r{r}') +
        f'_hrnet-w32_1xb32-210e_mpii-256x{size}.py'
        for size in (192, 256) for r in (3, 5, 9)}
SELF_GATING = 'sghrnet-self-gating_hrnet-w32_1xb32-210e_mpii-256x192.py'
PAPER = [COCO, TINY, *(MPII[192, r] for r in (3, 5, 9)), SELF_GATING]
HRNET_SIZE = [MPII[256, r] for r in (3, 5, 9)]
# each SG-HRNet main config -> its HRNet-W32 on the same recipe
PAIRS = {
    COCO: 'td-hm_hrnet-w32_1xb32-210e_coco-256x192_sghrnet-recipe.py',
    MPII[192, 5]: 'td-hm_hrnet-w32_1xb32-210e_mpii-256x192_sghrnet-recipe.py',
    MPII[256, 5]: 'td-hm_hrnet-w32_1xb32-210e_mpii-256x256_sghrnet-recipe.py',
}
SG_CONFIGS = sorted(set(CONFIGS) - set(PAIRS.values()))


def _load(name):
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def _transform(pipeline, type_):
    found = [t for t in pipeline if t['type'] == type_]
    assert len(found) == 1, f'{type_} not in pipeline'
    return found[0]


def test_config_set_is_complete():
    assert {TINY, COCO, SELF_GATING, *MPII.values(), *PAIRS.values()} == \
        set(CONFIGS)


@pytest.mark.parametrize('name', SG_CONFIGS)
def test_config_builds(name):
    cfg = _load(name)
    assert cfg.default_scope == 'mmpose'
    assert 'mmpose_attn' in cfg.custom_imports['imports']
    cfg.model.backbone.init_cfg = None  # no download in tests
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, SGHRNet)
    assert isinstance(model.head, SGHeatmapHead)
    assert model.backbone.with_seg_logits  # the head's loss reads the maps
    assert model.backbone.guidance == (
        'self_gating' if name == SELF_GATING else 'previous_stage')
    # the target codec and the decoder are the same SegmentationHeatmap
    target = _transform(cfg.train_dataloader.dataset.pipeline,
                        'GenerateTarget')['encoder']
    assert target == cfg.codec == cfg.model.head.decoder
    assert target['type'] == 'SegmentationHeatmap'
    assert [w // 4 for w in target['input_size']] == list(
        target['heatmap_size'])


def test_paper_training_settings():
    """Sec. 4.3 and Eq. 3/7 of the paper."""
    cfg = _load(COCO)
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-3)
    assert cfg.param_scheduler == [
        dict(
            type='MultiStepLR',
            begin=0,
            end=210,
            milestones=[170, 200],
            gamma=0.1,
            by_epoch=True)
    ]
    assert cfg.train_cfg.max_epochs == 210
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.auto_scale_lr.base_batch_size == 32
    pipeline = cfg.train_dataloader.dataset.pipeline
    aug = _transform(pipeline, 'RandomBBoxTransform')
    assert aug.rotate_factor == 45 and aug.scale_factor == (0.65, 1.35)
    assert _transform(pipeline, 'RandomFlip').direction == 'horizontal'
    assert cfg.codec.sigma == 2 and cfg.codec.radius == 5
    assert cfg.codec.input_size == (192, 256)
    losses = cfg.model.head.loss
    assert losses.type == 'DWALoss'
    assert losses.losses.seg.loss_weight == 0.002
    # on logits: MMPose's BCELoss with use_sigmoid=False
    assert losses.losses.seg.type == 'BCELoss'
    assert not losses.losses.seg.get('use_sigmoid', False)
    assert cfg.model.test_cfg.flip_test
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    assert cfg.val_dataloader.dataset.bbox_file.endswith(
        'COCO_val2017_detections_AP_H_56_person.json')


@pytest.mark.parametrize('size,radius', sorted(MPII))
def test_mpii_radius_ablation(size, radius):
    cfg = _load(MPII[size, radius])
    for pipeline in (cfg.val_dataloader.dataset.pipeline,
                     cfg.test_dataloader.dataset.pipeline):
        assert _transform(pipeline,
                          'TopdownAffine').input_size == (size, 256)
    enc = _transform(cfg.train_dataloader.dataset.pipeline,
                     'GenerateTarget')['encoder']
    assert enc.radius == radius and enc.input_size == (size, 256)
    assert enc == cfg.model.head.decoder
    assert cfg.model.head.out_channels == 16
    assert cfg.val_dataloader.dataset.type == 'MpiiDataset'
    assert cfg.val_dataloader.dataset.get('bbox_file') is None
    assert cfg.val_evaluator == dict(type='MpiiPCKAccuracy')


@pytest.mark.parametrize('name', PAPER + HRNET_SIZE)
def test_fusion_upsampling(name):
    """Sec. 3.3 "upsampled using bilinear interpolation" in the paper
    configs; HRNet's nearest in the 256x256 ones."""
    upsample = _load(name).model.backbone.extra.upsample
    if name in PAPER:
        assert upsample == dict(mode='bilinear', align_corners=False)
    else:
        assert upsample == dict(mode='nearest', align_corners=None)


def _bases(name, folder=CONFIG_DIR):
    """The ``_base_`` list written in a config file."""
    cfg_text = open(osp.join(folder, name)).read()
    found = re.search(r'^_base_ = \[([^\]]*)\]', cfg_text, re.M)
    return re.findall(r"'([^']+)'", found.group(1)), cfg_text


@pytest.mark.parametrize('sg_name', sorted(PAIRS))
def test_pairs_share_the_recipe(sg_name):
    """Issue 26: each SG-HRNet main config has an HRNet-W32 trained and
    tested with the same recipe; both inherit the one recipe base and
    HRNet-W32's trunk (no paper config, no ``_delete_``), and differ only
    in the model."""
    hr_name = PAIRS[sg_name]
    (sg_base, sg_model), _ = _bases(sg_name)
    (hr_base, hr_model), hr_text = _bases(hr_name)
    assert sg_base == hr_base and sg_base.startswith('./_base_/sghrnet-')
    # SG-HRNet's model base adds its modules to HRNet-W32's trunk
    assert (sg_model, hr_model) == ('./_base_/sghrnet-w32.py',
                                    './_base_/hrnet-w32.py')
    assert _bases(sg_model[2:])[0] == ['./hrnet-w32.py']
    assert '_delete_' not in hr_text
    sg, hr = _load(sg_name), _load(hr_name)
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'auto_scale_lr', 'default_hooks', 'codec',
                'train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator', 'custom_hooks'):
        assert sg[key] == hr[key], key
    assert sg.keys() == hr.keys()
    # the paper's recipe (Sec. 4.3), not MMPose's HRNet one
    assert hr.optim_wrapper.optimizer == dict(type='Adam', lr=1e-3)
    assert len(hr.param_scheduler) == 1  # no warm-up
    assert hr.train_dataloader.batch_size == 32
    aug = _transform(hr.train_dataloader.dataset.pipeline,
                     'RandomBBoxTransform')
    assert aug.rotate_factor == 45 and aug.scale_factor == (0.65, 1.35)
    # the models: MMPose's HRNet-W32 with SG-HRNet's stages, HeatmapHead
    assert hr.model.backbone.type == 'HRNet'
    assert hr.model.head.type == 'HeatmapHead'
    extra = dict(sg.model.backbone.extra)
    extra.pop('upsample')
    assert hr.model.backbone.extra == extra  # HRNet's nearest
    assert hr.model.backbone.init_cfg == sg.model.backbone.init_cfg
    assert hr.model.test_cfg == sg.model.test_cfg
    for k in ('in_channels', 'out_channels', 'decoder'):
        assert hr.model.head[k] == sg.model.head[k], k
    assert hr.model.head.loss == sg.model.head.loss.losses.kpt


@pytest.mark.parametrize('name', SG_CONFIGS + list(PAIRS.values()))
def test_checkpoint_selected_on_the_reported_split(name):
    """README: ``save_best`` on the metric and split that are reported."""
    cfg = _load(name)
    if name == TINY:
        assert cfg.default_hooks.checkpoint.save_best is None
        return
    assert cfg.test_dataloader == cfg.val_dataloader
    assert cfg.test_evaluator == cfg.val_evaluator
    best = cfg.default_hooks.checkpoint.save_best
    assert best == ('PCK' if '_mpii-' in name else 'coco/AP')
    assert cfg.default_hooks.checkpoint.rule == 'greater'


def test_self_gating_variants_change_only_the_reading():
    """The other reading of Sec. 3.2/3.3 is one config away, for the
    paper-literal MPII config and the LSP CPU tier."""
    cpu = osp.join(CONFIG_DIR, 'cpu_tier')
    for folder, name in (
            (CONFIG_DIR, SELF_GATING),
            (cpu, 'sghrnet-self-gating_hrnet-w8-small-cpu-tier_1xb16-210e_'
             'lsp-128x96.py')):
        (base, ), _ = _bases(name, folder)
        variant = Config.fromfile(osp.join(folder, name)).to_dict()
        default = Config.fromfile(osp.join(folder, base)).to_dict()
        assert default['model']['backbone']['guidance'] == 'previous_stage'
        assert variant['model']['backbone'].pop('guidance') == 'self_gating'
        default['model']['backbone'].pop('guidance')
        assert variant == default


class _DWAProbe(Hook):
    """Records the DWA state the first training step sees."""

    def __init__(self):
        self.states = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        loss = runner.model.head.loss_module
        self.states.append((loss.loss_history.clone(), loss.num_steps.item()))


def _tiny_cfg(samples_root, work_dir):
    cfg = _load(TINY)
    root = osp.join(samples_root, 'coco') + osp.sep
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.bbox_file = root + 'test_coco_det_AP_H_56.json'
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = root + 'test_coco.json'
    cfg.work_dir = str(work_dir)
    cfg.visualizer.vis_backends = []
    return cfg


def _no_val(cfg):
    # the test step below covers evaluation; skip it after training
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def test_tiny_train_test_and_resume(samples_root, tmp_path):
    torch.manual_seed(0)
    runner = Runner.from_cfg(_no_val(_tiny_cfg(samples_root, tmp_path)))
    runner.train()
    dwa = runner.model.head.loss_module
    steps = dwa.num_steps.item()
    assert steps == runner.iter > 2
    assert torch.isfinite(dwa.loss_history).all()
    assert not torch.equal(dwa.task_weights, torch.ones(2))

    metrics = runner.test()
    assert 0 <= metrics['coco/AP'] <= 1

    ckpt = str(tmp_path / 'epoch_1.pth')
    fresh = MODELS.build(_tiny_cfg(samples_root, tmp_path).model)
    load_checkpoint(fresh, ckpt, map_location='cpu')
    torch.testing.assert_close(fresh.head.loss_module.loss_history,
                               dwa.loss_history)

    cfg = _no_val(_tiny_cfg(samples_root, tmp_path / 'resumed'))
    cfg.train_cfg.max_epochs = 2
    cfg.load_from, cfg.resume = ckpt, True
    resumed = Runner.from_cfg(cfg)
    probe = _DWAProbe()
    resumed.register_hook(probe)
    resumed.train()
    history, n = probe.states[0]
    assert n == steps
    torch.testing.assert_close(history, dwa.loss_history)


# -- every full-size config: one train + one test step of a tiny copy ------
# The tiny copy keeps the config's model types and options (SGHRNet with its
# guided modules, SGHeatmapHead, DWALoss with its lambda, the codec's sigma
# and segmentation radius) and its own pipelines, with the tiny config's HRNet
# widths and a half-size input (256x192 -> 128x96, 256x256 -> 128x128).
FULL = [COCO, SELF_GATING, *(MPII[k] for k in sorted(MPII))]


def _tiny_codec(codec):
    codec = copy.deepcopy(codec)
    w, h = codec['input_size']
    codec.update(input_size=(w // 2, h // 2), heatmap_size=(w // 8, h // 8))
    return codec


def _tiny_model(cfg):
    model = copy.deepcopy(cfg.model)
    tiny = _load(TINY).model
    model.backbone.extra = dict(
        tiny.backbone.extra,
        upsample=model.backbone.extra.get(
            'upsample', dict(mode='nearest', align_corners=None)))
    model.backbone.init_cfg = None  # no Pretrained download in tests
    model.head.update(
        in_channels=tiny.head.in_channels,
        decoder=_tiny_codec(model.head.decoder))
    return model


def _tiny_pipeline(pipeline):
    pipeline = copy.deepcopy(pipeline)
    for t in pipeline:
        if t.type == 'TopdownAffine':
            t.input_size = tuple(d // 2 for d in t.input_size)
        elif t.type == 'GenerateTarget':
            t.encoder = _tiny_codec(t.encoder)
    return pipeline


def _samples_dataset(loader, samples_root):
    """The config's own (shrunk) pipeline on the real COCO / MPII samples."""
    test_mode = loader.dataset.get('test_mode', False)
    dataset = dict(
        type=loader.dataset.type,
        data_root=samples_root,
        data_mode='topdown',
        pipeline=_tiny_pipeline(loader.dataset.pipeline),
        test_mode=test_mode)
    if loader.dataset.type == 'MpiiDataset':  # no headbox file
        dataset.update(
            ann_file='mpii/test_mpii.json', data_prefix=dict(img='mpii/'))
    else:
        assert loader.dataset.type == 'CocoDataset'
        # ground-truth boxes: the detection file is not what is under test
        dataset.update(
            ann_file='coco/test_coco.json', data_prefix=dict(img='coco/'))
    return DATASETS.build(dataset)


SGM_PARTS = (*(f'backbone.stage_sgms.{i}.' for i in range(3)),
             'backbone.final_sgm.')


def _one_train_step(model, cfg, train_set, losses=('loss_kpt', 'loss_seg'),
                    parts=SGM_PARTS):
    """One step of the config's own optimizer: finite positive ``losses``,
    and HRNet, every SGM (``parts``) and the head get updated."""
    model.train()
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    # parameters only: BN running statistics change without any gradient
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    logs = model.train_step(pseudo_collate([train_set[0], train_set[1]]),
                            optim)
    assert set(losses) <= set(logs)
    for name in losses:
        assert torch.isfinite(logs[name]) and logs[name] > 0, name
    after = dict(model.named_parameters())
    for part in ('backbone.stage4.', *parts, 'head.'):
        assert any(not torch.equal(v, after[n]) for n, v in before.items()
                   if n.startswith(part) and v.is_floating_point()), part


@pytest.mark.parametrize('name', FULL)
def test_tiny_copy_train_and_test_step(samples_root, name):
    cfg = _load(name)
    encoder = _transform(cfg.train_dataloader.dataset.pipeline,
                         'GenerateTarget')['encoder']
    k = cfg.model.head.out_channels
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(cfg))
    assert isinstance(model.backbone, SGHRNet)
    assert isinstance(model.head, SGHeatmapHead)
    assert type(model.head.loss_module).__name__ == 'DWALoss'
    train_set = _samples_dataset(cfg.train_dataloader, samples_root)
    test_set = _samples_dataset(cfg.test_dataloader, samples_root)
    # the shrunk target keeps the config's segmentation radius and sigma
    (target, ) = [
        t for t in train_set.pipeline.transforms
        if type(t).__name__ == 'GenerateTarget'
    ]
    assert target.encoder.radius == encoder.radius
    assert target.encoder.sigma == encoder.sigma
    sample = train_set[0]
    h, w = (d // 8 for d in reversed(encoder.input_size))
    assert sample['data_samples'].gt_fields.seg_map.shape == (1, h, w)
    assert sample['data_samples'].gt_fields.heatmaps.shape == (k, h, w)
    model.dataset_meta = test_set.metainfo
    _one_train_step(model, cfg, train_set)

    checked_test_step(model, test_set, k)


@pytest.mark.parametrize('name', sorted(PAIRS.values()))
def test_tiny_copy_of_the_same_recipe_hrnet(samples_root, name):
    cfg = _load(name)
    k = cfg.model.head.out_channels
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(cfg))
    assert type(model.backbone) is HRNet
    assert type(model.head) is HeatmapHead
    train_set = _samples_dataset(cfg.train_dataloader, samples_root)
    test_set = _samples_dataset(cfg.test_dataloader, samples_root)
    model.dataset_meta = test_set.metainfo
    _one_train_step(model, cfg, train_set, losses=('loss_kpt', ), parts=())
    checked_test_step(model, test_set, k)


def test_stock_heatmap_head_on_sghrnet(samples_root):
    """Drop-in: MMPose's own HeatmapHead and MSRAHeatmap codec on SGHRNet,
    without segmentation supervision, build, train one step (the SGMs learn
    through Eq. 4 alone) and test with flip."""
    cfg = _load(TINY)
    codec = dict(
        type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32),
        sigma=1)
    cfg.model.head = dict(
        type='HeatmapHead',
        in_channels=8,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec)
    _transform(cfg.train_dataloader.dataset.pipeline,
               'GenerateTarget').encoder = codec
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, SGHRNet)
    assert model.test_cfg.flip_test

    def dataset(loader, test_mode):
        return DATASETS.build(
            dict(
                type='CocoDataset',
                data_root=osp.join(samples_root, 'coco'),
                data_mode='topdown',
                ann_file='test_coco.json',
                data_prefix=dict(img=''),
                pipeline=loader.dataset.pipeline,
                test_mode=test_mode))

    test_set = dataset(cfg.test_dataloader, True)
    model.dataset_meta = test_set.metainfo
    train_set = dataset(cfg.train_dataloader, False)
    _one_train_step(model, cfg, train_set, losses=('loss_kpt', ))
    checked_test_step(model, test_set, 17)
    # on SGHRNet's (seg_logits, *features): the head reads feats[-1]
    assert model.backbone.with_seg_logits
