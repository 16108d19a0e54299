import math

import pytest
import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from torch import nn

from mmpose_attn.tools.analysis import benchmark as benchmark_module
from mmpose_attn.tools.analysis import get_flops as get_flops_module
from mmpose_attn.tools.analysis import measure
from mmpose_attn.tools.analysis.benchmark import (benchmark,
                                                  synthetic_train_batch)
from mmpose_attn.tools.analysis.get_flops import get_flops, model_complexity
from mmpose_attn.tools.analysis.measure import (build_model, input_hw_of,
                                                load_config)

HRNET_BASELINE = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
                  'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')

# A pretrained URL that cannot be fetched: building must drop it.
PREPROCESSOR = """
data_preprocessor = dict(
    type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True)
unreachable = dict(type='Pretrained', checkpoint='http://0.0.0.0/none.pth')
"""

TOPDOWN = PREPROCESSOR + """
default_scope = 'mmpose'
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16),
             sigma=2)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                  init_cfg=unreachable),
    head=dict(type='HeatmapHead', in_channels=64, out_channels=17,
              deconv_out_channels=(16, 16, 16), decoder=codec),
    test_cfg=dict(flip_test=True))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(type='CocoDataset', data_root='nowhere/',
                 ann_file='none.json', pipeline=train_pipeline))
"""

BOTTOMUP = PREPROCESSOR + """
default_scope = 'mmpose'
codec = dict(type='SPR', input_size=(64, 64), heatmap_size=(16, 16),
             sigma=(4, 2), minimal_diagonal_length=32**0.5,
             generate_keypoint_heatmaps=True, decode_max_instances=30)


def stage(n, block='BASIC'):
    return dict(num_modules=1, num_branches=n, block=block,
                num_blocks=(1, ) * n,
                num_channels=tuple(4 * 2**i for i in range(n)))


model = dict(
    type='BottomupPoseEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='HRNet', in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                        num_blocks=(1, ), num_channels=(8, )),
            stage2=stage(2), stage3=stage(3),
            stage4=dict(stage(4), multiscale_output=True)),
        init_cfg=unreachable),
    neck=dict(type='FeatureMapProcessor', concat=True),
    head=dict(
        type='DEKRHead', in_channels=60, num_keypoints=17,
        num_heatmap_filters=8, num_displacement_filters_per_keypoint=2,
        decoder=codec,
        rescore_cfg=dict(in_channels=74, norm_indexes=(5, 6),
                         init_cfg=unreachable)),
    test_cfg=dict(multiscale_test=False, flip_test=True, nms_dist_thr=0.05,
                  shift_heatmap=True, align_corners=False))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='BottomupRandomAffine', input_size=codec['input_size']),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='BottomupGetHeatmapMask'),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(type='CocoDataset', data_mode='bottomup',
                 data_root='nowhere/', ann_file='none.json',
                 pipeline=train_pipeline))
"""


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    root = tmp_path_factory.mktemp('analysis_configs')
    paths = {}
    for name, text in (('topdown', TOPDOWN), ('bottomup', BOTTOMUP)):
        path = root / f'tiny_{name}.py'
        path.write_text(text)
        paths[name] = str(path)
    return paths


def test_single_conv_flops_match_hand_count():
    conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    result = model_complexity(conv, (16, 16))
    # one MAC per output element, input channel and kernel tap
    assert result['flops'] == 8 * 16 * 16 * 3 * 3 * 3
    assert result['params'] == 8 * 3 * 3 * 3
    strided = model_complexity(nn.Conv2d(3, 8, 3, stride=2, padding=1), (16,
                                                                          16))
    assert strided['flops'] == 8 * 8 * 8 * 3 * 3 * 3
    assert strided['params'] == 8 * 3 * 3 * 3 + 8


class _OnlyPrivateForward(nn.Module):
    """Like MMPose estimators: ``_forward`` is the tensor path."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def _forward(self, x):
        return self.conv(x)

    def forward(self, *args, **kwargs):
        raise AssertionError('the counter must trace _forward')


def test_model_complexity_traces_private_forward():
    model = _OnlyPrivateForward()
    assert model_complexity(model, (10, 6))['flops'] == 4 * 3 * 10 * 6
    with pytest.raises(AssertionError):  # forward restored afterwards
        model(torch.zeros(1, 3, 2, 2))


def test_get_flops_topdown(configs):
    result = get_flops(configs['topdown'])
    assert result['input_hw'] == (64, 64)
    model = build_model(load_config(configs['topdown']))
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert result['params_m'] == result['params'] / 1e6
    # Same count as mmengine's get_model_complexity_info on _forward.
    model.forward = model._forward
    reference = get_model_complexity_info(
        model.eval(), (3, 64, 64), show_table=False, show_arch=False)
    assert result['flops'] == reference['flops']
    assert get_flops(configs['topdown'], input_shape=(128, 128))['flops'] \
        == pytest.approx(4 * result['flops'], rel=0.02)


def test_get_flops_bottomup_counts_deform_conv(configs):
    from mmcv.ops import DeformConv2d
    result = get_flops(configs['bottomup'])
    model = build_model(load_config(configs['bottomup']))
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert not any('DeformConv' in op for op in result['unsupported_ops'])
    deform = [m for m in model.modules() if isinstance(m, DeformConv2d)]
    assert deform
    # DEKR's adaptive-activation blocks run at the 16x16 heatmap size.
    expected = sum(m.out_channels * m.in_channels // m.groups *
                   m.kernel_size[0] * m.kernel_size[1] * 16 * 16
                   for m in deform)
    assert result['by_operator']['deform_conv'] == expected


def test_get_flops_cli(configs, capsys):
    get_flops_module.main([configs['topdown'], '--input-shape', '32', '48'])
    out = capsys.readouterr().out
    assert '| config | input (HxW) | params (M) | GFLOPs |' in out
    assert f"| {configs['topdown']} | 32x48 |" in out


def test_mmpose_baseline_config_loads_through_mmengine_hub():
    cfg = load_config(HRNET_BASELINE, {'model.head.out_channels': 3})
    assert cfg.filename.endswith('td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
    assert input_hw_of(cfg) == (256, 192)  # codec input_size is (w, h)
    assert cfg.model.head.out_channels == 3
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    # built offline: MMPose's init_model loads no weights, cfg unchanged
    model = build_model(cfg)
    assert not model.training
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'


def test_config_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing_cfg.py'):
        load_config(str(tmp_path / 'missing_cfg.py'))
    with pytest.raises(FileNotFoundError, match='no_such/config.py'):
        load_config('mmpose::no_such/config.py')
    cfg = Config(dict(model=dict(type='TopdownPoseEstimator')))
    with pytest.raises(ValueError, match='--input-shape'):
        input_hw_of(cfg)


def test_input_size_is_the_decoders_then_the_codecs_then_the_pipelines():
    def cfg(**kwargs):
        return Config(dict(model=dict(head=dict()), **kwargs))

    pipeline = dict(dataset=dict(pipeline=[dict(type='TopdownAffine',
                                                input_size=(48, 64))]))
    assert input_hw_of(cfg(val_dataloader=pipeline)) == (64, 48)
    assert input_hw_of(cfg(codec=dict(input_size=32),
                           val_dataloader=pipeline)) == (32, 32)
    decoder = Config(dict(model=dict(head=dict(decoder=[
        dict(type='A'), dict(input_size=(10, 20))])), codec=dict(
            input_size=(1, 2))))
    assert input_hw_of(decoder) == (20, 10)


def test_time_interleaved_alternates_and_skips_warmup():
    calls = []
    times = measure.time_interleaved(
        [lambda: calls.append('a'), lambda: calls.append('b')], iters=3,
        warmup=2, on_round=lambda i, t: calls.append(i))
    assert calls == ['a', 'b', 0, 'a', 'b', 1, 'a', 'b', 2, 'a', 'b', 3,
                     'a', 'b', 4]
    assert [len(t) for t in times] == [3, 3]
    assert all(s >= 0 for t in times for s in t)
    assert measure.median_iqr([4., 1., 2., 3., 100.]) == (3., 2.)


def test_peak_memory_sees_an_allocation_and_not_what_was_there_before():
    resident = torch.ones(64 * 2**20 // 4)  # 64 MiB held throughout
    with measure.PeakMemory('cpu') as idle:
        pass
    with measure.PeakMemory('cpu') as peak:
        block = torch.ones(128 * 2**20 // 4)  # 128 MiB, touched
        del block
    assert peak.method.startswith('VmHWM')
    assert 120 * 2**20 < peak.bytes < 160 * 2**20
    assert idle.bytes < 16 * 2**20
    del resident


def test_synthetic_train_batch(configs):
    batch = synthetic_train_batch(load_config(configs['topdown']), 2)
    assert [tuple(x.shape) for x in batch['inputs']] == [(3, 64, 64)] * 2
    sample = batch['data_samples'][0]
    assert tuple(sample.gt_fields.heatmaps.shape) == (17, 16, 16)
    assert sample.gt_instance_labels.keypoint_weights.sum() > 0
    bottomup = synthetic_train_batch(load_config(configs['bottomup']), 1)
    sample = bottomup['data_samples'][0]
    assert tuple(bottomup['inputs'][0].shape) == (3, 64, 64)
    assert sample.gt_fields.heatmaps.shape[-2:] == (16, 16)
    assert sample.gt_instances.keypoints.shape == (2, 17, 2)


def test_benchmark_forward_interleaved(configs):
    result = benchmark(configs['topdown'], configs['bottomup'],
                       mode='forward', iters=2, warmup=1,
                       measure_memory=False, progress=False)
    for tag in ('a', 'b'):
        assert len(result[tag]['times_ms']) == 2
        assert result[tag]['peak_mem_bytes'] is None
    assert math.isfinite(result['ratio']) and result['ratio'] > 0
    assert result['ratio'] == pytest.approx(result['b']['median_ms'] /
                                            result['a']['median_ms'])


def test_benchmark_train_with_memory(configs):
    result = benchmark(configs['topdown'], configs['bottomup'], mode='train',
                       batch_size=2, iters=2, warmup=1, progress=False)
    assert math.isfinite(result['ratio']) and result['ratio'] > 0
    for tag in ('a', 'b'):
        assert result[tag]['peak_mem_bytes'] > 0
    assert math.isfinite(result['mem_ratio'])
    assert result['memory_method']


def test_benchmark_cli(configs, capsys):
    benchmark_module.main([
        configs['topdown'], configs['topdown'], '--iters', '1', '--warmup',
        '0', '--no-memory', '--input-shape', '32', '32'
    ])
    out = capsys.readouterr().out
    assert 'ratio B/A (median time):' in out
    assert '32x32' in out
    with pytest.raises(ValueError, match='forward mode'):
        benchmark(configs['topdown'], configs['topdown'], mode='train',
                  input_shape=(32, 32))


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'grid_sample'])
def test_deform_conv_flops_equal_on_every_kernel(backend):
    from mmpose_attn.models.utils.deform_conv import DeformConv2d

    class Block(nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = DeformConv2d(3, 6, 3, padding=1, backend=backend)

        def forward(self, x):
            offset = torch.zeros(x.size(0), 18, *x.shape[2:])
            return self.conv(x, offset)

    block = Block()
    result = model_complexity(block, (8, 8))
    assert not any('deform' in op.lower() for op in result['unsupported_ops'])
    # the convolution only: no grid_sample or matmul of the PyTorch path
    assert result['by_operator'] == {'deform_conv': 6 * 3 * 3 * 3 * 8 * 8}
    assert block.conv.backend == backend
