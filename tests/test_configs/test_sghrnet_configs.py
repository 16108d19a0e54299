import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import load_checkpoint
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
# MPII: paper-literal (256x192, bilinear fusion upsampling) and HRNet
# protocol (256x256, nearest), each with the radii of Table 3
MPII = {(size, r): ('sghrnet' if r == 5 else f'sghrnet-r{r}') +
        f'_hrnet-w32_1xb32-210e_mpii-256x{size}.py'
        for size in (192, 256) for r in (3, 5, 9)}
PAPER = [COCO, TINY, *(MPII[192, r] for r in (3, 5, 9))]
HRNET_PROTOCOL = [MPII[256, r] for r in (3, 5, 9)]


def _load(name):
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def _transform(pipeline, type_):
    found = [t for t in pipeline if t['type'] == type_]
    assert len(found) == 1, f'{type_} not in pipeline'
    return found[0]


def test_config_set_is_complete():
    assert {TINY, COCO, *MPII.values()} <= set(CONFIGS)


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds(name):
    cfg = _load(name)
    assert cfg.default_scope == 'mmpose'
    assert 'mmpose_attn' in cfg.custom_imports['imports']
    cfg.model.backbone.init_cfg = None  # no download in tests
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, SGHRNet)
    assert isinstance(model.head, SGHeatmapHead)
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
    assert cfg.val_dataloader.dataset.bbox_file is None
    assert cfg.val_evaluator == dict(type='MpiiPCKAccuracy')


@pytest.mark.parametrize('name', PAPER + HRNET_PROTOCOL)
def test_fusion_upsampling(name):
    """Sec. 3.3 "upsampled using bilinear interpolation" in the paper
    configs; HRNet's nearest in the HRNet-protocol ones."""
    upsample = _load(name).model.backbone.extra.upsample
    if name in PAPER:
        assert upsample == dict(mode='bilinear', align_corners=False)
    else:
        assert upsample == dict(mode='nearest', align_corners=None)


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
FULL = [COCO, *(MPII[k] for k in sorted(MPII))]


def _tiny_codec(codec):
    codec = copy.deepcopy(codec)
    w, h = codec['input_size']
    codec.update(input_size=(w // 2, h // 2), heatmap_size=(w // 8, h // 8))
    return codec


def _tiny_model(cfg):
    model = copy.deepcopy(cfg.model)
    tiny = _load(TINY).model
    model.backbone.extra = dict(
        tiny.backbone.extra, upsample=model.backbone.extra.upsample)
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


def _one_train_step(model, cfg, train_set, losses=('loss_kpt', 'loss_seg')):
    """One step of the config's own optimizer: finite positive ``losses``,
    and HRNet, every SGM and the head get updated."""
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
    for part in ('backbone.stage4.', *(f'backbone.stage_sgms.{i}.'
                                       for i in range(3)),
                 'backbone.final_sgm.', 'head.'):
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
