"""scripts/gpu_check.sh and its module: the CPU smoke run of the whole check
(every pair, the inference and the deformable-convolution sections), the
refusal without a GPU, and the pieces that decide what is measured."""
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from mmpose_attn.models.utils import deform_conv
from mmpose_attn.tools.analysis import gpu_check
from mmpose_attn.tools.analysis.config_utils import input_hw_of, load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'scripts', 'gpu_check.sh')
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(),
                            reason='checks the refusal on a machine '
                            'without a GPU')


def _script(*args, env=None):
    env = dict(os.environ, PYTHON=sys.executable, **(env or {}))
    return subprocess.run(['bash', SCRIPT, *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=600)


def test_cpu_smoke_run_of_the_whole_check(tmp_path):
    """What the GPU run does, on the papers' tiny configs at batch 2: every
    pair trains with AmpOptimWrapper (bfloat16 here) to finite losses, is
    timed, and the report has all three sections."""
    report_json = tmp_path / 'report.json'
    report_md = tmp_path / 'report.md'
    t0 = time.perf_counter()
    proc = _script('--device', 'cpu', '--iters', '2', '--json',
                   str(report_json), '--out', str(report_md),
                   env=dict(OMP_NUM_THREADS='1'))
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(report_json.read_text())
    assert report['ok']
    assert [p['name'] for p in report['pairs']] == [
        p.name for p in gpu_check.PAIRS
    ]
    for pair, spec in zip(report['pairs'], gpu_check.PAIRS):
        base, main = pair['train']
        assert (base['label'], main['label']) == (
            spec.baseline_label + ' (tiny)', spec.name + ' (tiny)')
        assert (base['config'], main['config']) == (spec.cpu[0][0],
                                                    spec.cpu[1][0])
        for t in (base, main):
            assert len(t['losses']) == 2 and t['finite']
            assert t['batch_size'] == 2
            assert t['images_per_s'] == pytest.approx(2 * t['iters_per_s'])
        assert pair['ratio'] == pytest.approx(main['median_s'] /
                                              base['median_s'])
        assert pair['goal'] == spec.goal
        assert set(pair['infer']) == {'1', '2'}
        assert all(i['main_s'] > 0 and i['baseline_s'] > 0
                   for i in pair['infer'].values())
    assert report['pairs'][-1]['train'][0]['input_hw'] == [128, 128]
    deform = report['deform_conv']
    assert deform['ok'] and deform['cpu_kernel'] == 'mmcv'
    assert [r['kernel'] for r in deform['rows']] == ['torchvision'] * 2
    text = report_md.read_text()
    assert proc.stdout.rstrip().endswith(text.strip())
    assert '### Training (AMP)' in text and '### Inference' in text
    assert text.count('| SAMKR |') == 3  # two training rows + inference
    assert '<= 1.05x: ' in text
    assert 'MMPose DEKR-W32' in text
    print(f'gpu_check.sh --device cpu --iters 2: {elapsed:.1f} s')


@NO_GPU
def test_refuses_cuda_without_a_gpu_before_installing_anything(tmp_path):
    proc = _script('--device', 'cuda', '--wheels', str(tmp_path / 'none'),
                   env=dict(GPU_CHECK_SITE=str(tmp_path / 'site')))
    assert proc.returncode == 2
    assert 'sees no CUDA GPU' in proc.stderr
    assert '--device cpu' in proc.stderr
    assert not (tmp_path / 'site').exists()
    # the default device is CUDA
    assert _script().returncode == 2


@NO_GPU
def test_module_refuses_cuda_without_a_gpu(capsys):
    assert gpu_check.main(['--device', 'cuda:0', '--iters', '1']) == 2
    assert 'sees no CUDA GPU' in capsys.readouterr().err
    with pytest.raises(gpu_check.GpuCheckError, match='cpu or cuda'):
        gpu_check.check_device('mps')


def test_unknown_pair_is_named():
    with pytest.raises(gpu_check.GpuCheckError, match=r"'hrnet'.*samkr"):
        gpu_check.gpu_check('cpu', pairs=['hrnet'])


def test_every_pair_loads_from_its_configs():
    """The configs the GPU and CPU runs load exist, both models of a pair
    take the same input, and the baseline overrides make MMPose's DEKR-W32
    head a SAMKRHead without attention."""
    for pair in gpu_check.PAIRS:
        main = load_config(pair.main)
        base = load_config(pair.baseline, pair.baseline_options)
        assert main.train_dataloader.batch_size >= 10
        assert input_hw_of(main) == input_hw_of(base)
        (cpu_base, cpu_base_options), (cpu_main, cpu_main_options) = pair.cpu
        assert 'tiny' in cpu_main and 'tiny' in cpu_base
        assert input_hw_of(load_config(cpu_main, cpu_main_options)) == \
            input_hw_of(load_config(cpu_base, cpu_base_options))
    samkr = gpu_check.PAIRS[-1]
    head = load_config(samkr.baseline, samkr.baseline_options).model.head
    assert (head.type, head.attention_cfg, head.num_adaptive_blocks,
            head.num_displacement_filters_per_keypoint) == ('SAMKRHead', None,
                                                            2, 15)


def test_input_scale_keeps_strides_and_divisibility():
    cfg = Config(
        dict(
            codec=dict(input_size=(192, 256), heatmap_size=(48, 64)),
            model=dict(head=dict(decoder=dict(input_size=(512, 512),
                                              heatmap_size=(128, 128)))),
            train_dataloader=dict(dataset=dict(pipeline=[
                dict(type='TopdownAffine', input_size=(192, 256)),
                dict(type='GenerateTarget', encoder=dict(
                    input_size=(192, 256), heatmap_size=(48, 64)))
            ]))))
    small = gpu_check.scale_input_size(cfg, 0.25)
    assert small.codec == dict(input_size=(64, 64), heatmap_size=(16, 16))
    assert small.model.head.decoder.input_size == (128, 128)
    assert small.model.head.decoder.heatmap_size == (32, 32)
    pipeline = small.train_dataloader.dataset.pipeline
    assert pipeline[0].input_size == (64, 64)
    assert pipeline[1].encoder.heatmap_size == (16, 16)
    assert cfg.codec.input_size == (192, 256)  # the original is untouched
    assert gpu_check.scale_input_size(cfg, 1) is cfg
    assert gpu_check.scale_input_size(cfg, 0.5).codec.input_size == (128,
                                                                      128)


def test_deform_conv_check_catches_a_wrong_kernel(monkeypatch):
    """The section compares real numbers: torchvision's kernel with a
    shifted offset no longer passes."""
    monkeypatch.setitem(gpu_check.DEFORM_SHAPE, 'size', 12)  # fast here
    report = gpu_check.check_deform_conv(torch.device('cpu'))
    assert report['ok']
    assert all(r['output_dtype'] == 'torch.float32' for r in report['rows'])
    assert max(report['rows'][0]['rel_diffs'].values()) < 1e-5

    def shifted(x, offset, *args, **kwargs):
        return tv(x, offset + 0.05, *args, **kwargs)

    tv = deform_conv.tv_deform_conv2d
    monkeypatch.setattr(deform_conv, 'tv_deform_conv2d', shifted)
    report = gpu_check.check_deform_conv(torch.device('cpu'))
    assert not report['ok']
    assert report['rows'][0]['rel_diffs']['output'] > 1e-3
