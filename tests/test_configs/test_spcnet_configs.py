"""Every SPCNet config: paper settings, the model each table row needs, the
full model's output shape and size, and one train + one test step of a tiny
copy on the real MPII samples (tiny config files: a full Runner run on the
generated toy data)."""
import copy
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmpose.registry import MODELS
from mmpose_attn.datasets import FlicDataset
from _topdown_steps import (check_torso_pck, checked_test_step,
                            checked_train_step, mpii_samples_dataset,
                            with_codec)

SPCNET = 'spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py'
BASELINE = 'td-hm_hourglass8_4xb12-170e_mpii-256x256.py'
TD, MS = 'TopdownPoseEstimator', 'MultiScaleTopdownPoseEstimator'
# config -> (num_downsamples, dilated_blocks, R, SIM fusion, K, estimator)
EXPECTED = {
    SPCNET: (2, True, 2, 'attention', 16, TD),
    SPCNET[:-3] + '_flip-test.py': (2, True, 2, 'attention', 16, TD),
    SPCNET[:-3] + '_ms6-flip-test.py': (2, True, 2, 'attention', 16, MS),
    'spcnet_dilated-hourglass8-r2_4xb12-170e_lsp-256x256.py':
    (2, True, 2, 'attention', 14, TD),
    'spcnet_dilated-hourglass8-r2_4xb12-170e_lsp-256x256_ms6-flip-test.py':
    (2, True, 2, 'attention', 14, MS),
    'spcnet_dilated-hourglass8-r2_4xb12-170e_flic-256x256.py':
    (2, True, 2, 'attention', 11, TD),
    'spcnet_dilated-hourglass8-r2_4xb12-170e_flic-256x256_ms6-flip-test.py':
    (2, True, 2, 'attention', 11, MS),
    # Tables 1-3
    BASELINE: (4, False, 1, None, 16, TD),
    BASELINE[:-3] + '_flip-test.py': (4, False, 1, None, 16, TD),
    BASELINE[:-3] + '_ms6-flip-test.py': (4, False, 1, None, 16, MS),
    'td-hm_dilated-hourglass8-r1_4xb12-170e_mpii-256x256.py':
    (2, True, 1, None, 16, TD),
    'td-hm_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py':
    (2, True, 2, None, 16, TD),
    'td-hm_dilated-hourglass8-r3_4xb12-170e_mpii-256x256.py':
    (2, True, 3, None, 16, TD),
    'spcnet-sum_hourglass8_4xb12-170e_mpii-256x256.py':
    (4, False, 1, 'sum', 16, TD),
    'spcnet-concat_hourglass8_4xb12-170e_mpii-256x256.py':
    (4, False, 1, 'concat', 16, TD),
    'spcnet_hourglass8_4xb12-170e_mpii-256x256.py':
    (4, False, 1, 'attention', 16, TD),
}
TINY = {
    'spcnet_dilated-hourglass2-tiny_1xb2-2e_toy-64x64.py': 'attention',
    'td-hm_hourglass2-tiny_1xb2-2e_toy-64x64.py': None,
}
# MPII joint -> FLIC joint (shoulders, elbows, wrists, hips; FLIC's eyes and
# nose have no MPII counterpart and stay unlabelled)
MPII_TO_FLIC = [(13, 0), (14, 1), (15, 2), (12, 3), (11, 4), (10, 5), (3, 6),
                (2, 7)]
TINY_CODEC = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)


@functools.lru_cache(maxsize=None)
def _parse(path):
    return Config.fromfile(path)


def _load(config_root, name):
    return copy.deepcopy(_parse(osp.join(config_root, 'spcnet', name)))


def test_every_config_is_listed(config_root):
    names = {
        osp.basename(p)
        for p in glob.glob(osp.join(config_root, 'spcnet', '*.py'))
    }
    assert names == set(EXPECTED) | set(TINY)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_paper_settings(config_root, name):
    """Sec. 4.1: 256x256, RMSProp lr 1e-3 x0.1 at 120 and 150 of 170
    epochs, batch 48 (4 x 12), rotation +-60, scale 0.75-1.25, flip."""
    cfg = _load(config_root, name)
    assert cfg.optim_wrapper.optimizer == dict(type='RMSprop', lr=1e-3)
    assert cfg.train_cfg.max_epochs == 170
    (step, ) = cfg.param_scheduler
    assert (step.type, step.milestones, step.gamma) == ('MultiStepLR',
                                                        [120, 150], 0.1)
    assert cfg.train_dataloader.batch_size * 4 == 48
    assert cfg.auto_scale_lr.base_batch_size == 48
    assert cfg.codec.input_size == (256, 256)
    assert cfg.codec.heatmap_size == (64, 64)
    pipeline = cfg.train_dataloader.dataset.pipeline
    types = [t.type for t in pipeline]
    assert 'RandomFlip' in types
    aug = pipeline[types.index('RandomBBoxTransform')]
    assert aug.rotate_factor == 60 and tuple(aug.scale_factor) == (0.75, 1.25)
    assert aug.shift_prob == 0


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_model_of_each_table_row(config_root, name):
    down, dilated, rate, fusion, k, estimator = EXPECTED[name]
    model = _load(config_root, name).model
    assert model.type == estimator
    bb = model.backbone
    assert (bb.type, bb.num_stacks, bb.num_downsamples, bb.dilated_blocks,
            bb.dilation) == ('DilatedHourglassNet', 8, down, dilated, rate)
    assert model.head.type == 'SPCNetHead' and model.head.out_channels == k
    assert model.head.use_fused == (fusion is not None)
    # the decoder levels go into the tuple only for the SIM
    assert bb.out_levels == (fusion is not None)
    if fusion is None:
        assert model.get('neck') is None
    else:
        assert model.neck.fusion == fusion
        assert (model.neck.num_stacks, model.neck.in_channels) == (8, 256)
    # Tables 1-3 and Table 4's single-scale rows: one crop, no flip; the
    # flip and six-scale rows are their own test-only configs
    assert model.test_cfg.flip_test == name.endswith('flip-test.py')
    if estimator == MS:
        # the re-cropping pyramid of PyraNet's scales, for every model
        assert model.test_cfg.multiscale_mode == 'recrop'
        assert model.test_cfg.scales == [0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
    # the registry resolves every part
    for part in ('backbone', 'neck', 'head'):
        if model.get(part):
            assert MODELS.get(model[part].type) is not None


def test_full_spcnet_shape_and_size(config_root):
    """256x256 -> 16 x 64 x 64 heatmaps; parameters = Newell's baseline + one
    1x1 projection per dilated level + SIM + the SIM's heatmap conv; the
    baseline is Newell's network less its 7 heatmap remaps (feature
    feedback, README interpretation 9)."""
    spcnet = MODELS.build(_load(config_root, SPCNET).model).eval()
    baseline = MODELS.build(_load(config_root, BASELINE).model)
    with torch.no_grad():
        out = spcnet(torch.rand(1, 3, 256, 256), None, mode='tensor')
    assert len(out) == 9  # 8 stacks + SIM
    assert all(tuple(h.shape) == (1, 16, 64, 64) for h in out)
    f, k = 256, 16
    projections = 8 * 2 * (f * f + f)
    sim = 4 * (8 * f * f + 2 * f) + (f * 4 + 4)  # IC conv + BN, ID squeeze
    final = f * k + k

    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert count(spcnet) - count(baseline) == projections + sim + final
    # Newell's 8-stack hand count (25_434_112) less the heatmap remaps
    assert count(baseline) == 25_434_112 - 7 * (k * f + f)


def _tiny_model(cfg):
    model = copy.deepcopy(cfg.model)
    model.backbone.update(
        num_stacks=2, feat_channels=32, stem_channels=(16, 32))
    if model.get('neck'):
        model.neck.update(in_channels=32, num_stacks=2, out_channels=32)
    model.head.update(in_channels=32, num_stacks=2, decoder=TINY_CODEC)
    return model


def _samples_dataset(cfg, loader, samples_root, num_keypoints):
    """The config's own pipeline on the real MPII samples, mapped to the
    config's joints (LSP: the config's own MPII -> LSP converter)."""
    test_mode = loader is cfg.test_dataloader
    pipeline = with_codec(loader.dataset.pipeline, TINY_CODEC)
    if num_keypoints == 16:
        return mpii_samples_dataset(samples_root, pipeline, test_mode)
    if num_keypoints == 14:
        converter, metainfo = cfg.dataset_mpii.pipeline, cfg.dataset_info
    else:
        converter = [
            dict(
                type='KeypointConverter',
                num_keypoints=11,
                mapping=MPII_TO_FLIC)
        ]
        metainfo = FlicDataset.METAINFO
    return mpii_samples_dataset(samples_root, pipeline, test_mode, converter,
                                metainfo)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_tiny_variant_train_and_test_step(config_root, samples_root, name):
    cfg = _load(config_root, name)
    k = EXPECTED[name][4]
    torch.manual_seed(0)
    model = MODELS.build(_tiny_model(cfg))
    train_set = _samples_dataset(cfg, cfg.train_dataloader, samples_root, k)
    test_set = _samples_dataset(cfg, cfg.test_dataloader, samples_root, k)
    model.dataset_meta = test_set.metainfo
    # the *flip-test configs train as their base config: test step only
    if not name.endswith('flip-test.py'):
        checked_train_step(model, cfg, train_set)

    preds, batch = checked_test_step(model, test_set, k)
    if k != 16:  # LSP / FLIC: the config's own PCK@0.2 evaluator
        check_torso_pck(cfg, preds, batch, test_set.metainfo)


@pytest.mark.parametrize('name', sorted(TINY))
def test_tiny_configs_run_as_is_with_the_runner(config_root, tmp_path, name):
    from mmengine.runner import Runner
    cfg = _load(config_root, name)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_epochs = 1
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = str(tmp_path / 'toy')
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    runner = Runner.from_cfg(cfg)
    assert (runner.model.neck.fusion if runner.model.with_neck else
            None) == TINY[name]
    runner.train()
    metrics = runner.test()
    assert {'PCK', 'Head PCK', 'Wrist PCK'} <= set(metrics)  # PCKh@0.5
    # the checkpoint the run wrote is the trained model: a new run tests
    # the same weights and gets the same metrics
    cfg.load_from = str(tmp_path / 'work' / 'epoch_1.pth')
    cfg.work_dir = str(tmp_path / 'reloaded')
    reloaded = Runner.from_cfg(cfg)
    assert reloaded.test() == pytest.approx(metrics)
    trained = runner.model.state_dict()
    for key, value in reloaded.model.state_dict().items():
        assert torch.equal(value, trained[key]), key
