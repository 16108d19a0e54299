import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmpose.registry import MODELS, TRANSFORMS

MAIN = {
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py': 16,
    'sadinet_rfm-hourglass_2xb32-210e_lsp-256x256.py': 14,
}
MS6 = {
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256_ms6-flip-test.py',
    'sadinet_rfm-hourglass_2xb32-210e_lsp-256x256_ms6-flip-test.py',
}
# Tables 3-5: config -> (backbone, RFM units, head, chi, MSE loss weight)
ABLATIONS = {
    'td-hm_hourglass_2xb32-210e_mpii-256x256.py':
    ('DilatedHourglassNet', False, 'SPCNetHead', None, 1.0),
    'td-hm_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', True, 'SPCNetHead', None, 1.0),
    'td-hm_basic-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', True, 'SPCNetHead', None, 1.0),
    'sadinet-sfm-dlm_hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', False, 'DLMHead', 'sigma', 1.0),
    'sadinet-sum-loss_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', True, 'DLMHead', 0.5, 2.0),
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    ('RFMHourglassNet', True, 'DLMHead', 'sigma', 1.0),
}
TINY = {'sadinet_rfm-hourglass-tiny_1xb8-1e_toy-mpii-64x64.py'}


def _load(config_root, name):
    return Config.fromfile(osp.join(config_root, 'sadinet', name))


def test_every_config_is_listed(config_root):
    names = {
        osp.basename(p)
        for p in glob.glob(osp.join(config_root, 'sadinet', '*.py'))
    }
    assert names == set(MAIN) | MS6 | set(ABLATIONS) | TINY


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
    # MSRA heatmaps (as the decoder's) plus normalised keypoint labels
    assert target.encoder.type == 'IntegralRegressionLabel'
    assert not target.encoder.normalize
    for key in ('input_size', 'heatmap_size', 'sigma'):
        assert target.encoder[key] == cfg.codec[key]
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
    backbone_type, rfm, head_type, chi, mse_weight = ABLATIONS[name]
    cfg = _load(config_root, name)
    assert cfg.model.backbone.type == backbone_type
    assert cfg.model.head.type == head_type
    assert cfg.model.head.loss.get('loss_weight', 1.0) == mse_weight
    if chi is not None:
        assert cfg.model.head.chi == chi
    model = MODELS.build(cfg.model)
    units = {type(m).__name__ for m in model.backbone.modules()}
    assert ('ReceptiveFortifiedModule' in units) == rfm
    assert ('Bottleneck' in units) == (not rfm)
    if rfm:
        basic = 'basic-hourglass' in name
        for m in model.backbone.modules():
            if type(m).__name__ == 'ReceptiveFortifiedModule':
                assert (m.dilated_conv is None) == basic
                assert (m.se is None) == basic
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
