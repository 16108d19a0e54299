"""scripts/gpu_check.sh and its harness tools/gpu_check (outside the package):
the CPU smoke run of the whole check, the refusal without a GPU, the report
written section by section, the deformable-convolution comparison failing
on nan, and the sdist download that builds nothing."""
import hashlib
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from mmpose_attn.models.utils import deform_conv
from mmpose_attn.tools.analysis.measure import input_hw_of, load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'scripts', 'gpu_check.sh')
sys.path.insert(0, osp.join(REPO, 'tools'))
from gpu_check import check, deform, report, wheels  # noqa: E402

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(),
                            reason='checks the refusal on a machine '
                            'without a GPU')


def _script(*args, env=None):
    env = dict(os.environ, PYTHON=sys.executable, **(env or {}))
    return subprocess.run(['bash', SCRIPT, *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=600)


def test_cpu_smoke_run_of_the_whole_check(tmp_path):
    """What the GPU run does, on the papers' tiny configs at batch 2: every
    pair trains under AMP (bfloat16 here) to finite losses, is timed, and
    the report has a section per pair and the deformable convolution."""
    report_json = tmp_path / 'report.json'
    report_md = tmp_path / 'report.md'
    t0 = time.perf_counter()
    proc = _script('--device', 'cpu', '--iters', '2', '--json',
                   str(report_json), '--out', str(report_md),
                   env=dict(OMP_NUM_THREADS='1'))
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(report_json.read_text())
    assert result['ok'] and result['complete']
    *pairs, deform_section = result['sections']
    assert [s['name'] for s in pairs] == [p.name for p in check.PAIRS]
    for section, spec in zip(pairs, check.PAIRS):
        assert section['ok']
        pair = section['result']
        base, main = pair['train']
        assert (base['label'], main['label']) == (
            spec.baseline_label + ' (tiny)', spec.name + ' (tiny)')
        assert (base['config'], main['config']) == (spec.cpu[0][0],
                                                    spec.cpu[1][0])
        for t in (base, main):
            assert len(t['losses']) == 2 and t['finite']
            assert t['batch_size'] == 2
            assert t['images_per_s'] == pytest.approx(2 * t['iters_per_s'])
            assert t['peak_mem_bytes'] > 0
        assert pair['ratio'] == pytest.approx(main['median_s'] /
                                              base['median_s'])
        assert pair['goal'] == spec.goal
        assert set(pair['infer']) == {'1', '2'}
        assert all(i['main_s'] > 0 and i['baseline_s'] > 0
                   for i in pair['infer'].values())
    assert pairs[-1]['result']['train'][0]['input_hw'] == [128, 128]
    d = deform_section['result']
    assert deform_section['ok'] and d['cpu_kernel'] == 'mmcv'
    assert [r['kernel'] for r in d['rows']] == ['torchvision'] * 2
    text = report_md.read_text()
    # the same report on stdout (where mmengine's logger writes too)
    assert all(line in proc.stdout for line in text.splitlines())
    assert text.count('### ') == len(check.PAIRS) + 1
    assert '| MMPose DEKR-W32 (tiny) |' in text
    assert 'goal <= 1.05x: ' in text
    assert text.rstrip().endswith(': ok.')
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
def test_harness_refuses_cuda_without_a_gpu(capsys):
    assert check.main(['--device', 'cuda:0', '--iters', '1']) == 2
    assert 'sees no CUDA GPU' in capsys.readouterr().err
    with pytest.raises(check.GpuCheckError, match='cpu or cuda'):
        check.check_device('mps')


def test_unknown_pair_is_named():
    with pytest.raises(check.GpuCheckError, match=r"'hrnet'.*samkr"):
        check.gpu_check('cpu', pairs=['hrnet'])


def test_harness_is_not_installed_with_the_package():
    """tools/ is no package of setup.py: find_packages stops at a folder
    without __init__.py, and the package has no gpu_check any more."""
    from setuptools import find_packages
    packages = find_packages(REPO, exclude=('configs', 'tests', 'tests.*'))
    assert 'mmpose_attn.tools.analysis' in packages
    assert not [p for p in packages if p.split('.')[0] in ('tools',
                                                            'gpu_check')]
    assert not osp.exists(
        osp.join(REPO, 'mmpose_attn', 'tools', 'analysis', 'gpu_check.py'))


def test_every_pair_loads_from_its_configs():
    """The configs the GPU and CPU runs load exist, both models of a pair
    take the same input, and the baseline overrides make MMPose's DEKR-W32
    head a SAMKRHead without attention."""
    for pair in check.PAIRS:
        main = load_config(pair.main)
        base = load_config(pair.baseline, pair.baseline_options)
        assert main.train_dataloader.batch_size >= 10
        assert input_hw_of(main) == input_hw_of(base)
        (cpu_base, cpu_base_options), (cpu_main, cpu_main_options) = pair.cpu
        assert 'tiny' in cpu_main and 'tiny' in cpu_base
        assert input_hw_of(load_config(cpu_main, cpu_main_options)) == \
            input_hw_of(load_config(cpu_base, cpu_base_options))
    samkr = check.PAIRS[-1]
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
    small = check.scale_input_size(cfg, 0.25)
    assert small.codec == dict(input_size=(64, 64), heatmap_size=(16, 16))
    assert small.model.head.decoder.input_size == (128, 128)
    assert small.model.head.decoder.heatmap_size == (32, 32)
    pipeline = small.train_dataloader.dataset.pipeline
    assert pipeline[0].input_size == (64, 64)
    assert pipeline[1].encoder.heatmap_size == (16, 16)
    assert cfg.codec.input_size == (192, 256)  # the original is untouched
    assert check.scale_input_size(cfg, 1) is cfg
    assert check.scale_input_size(cfg, 0.5).codec.input_size == (128, 128)


def test_cpu_amp_wrapper_autocasts_the_forward_pass_in_bfloat16():
    """Without an accelerator mmengine refuses AmpOptimWrapper; the smoke
    run's stand-in autocasts as it does, and only the wrappers `--amp`
    accepts are taken."""
    model = torch.nn.Linear(2, 2)
    cfg = Config(dict(optim_wrapper=dict(
        optimizer=dict(type='SGD', lr=0.1), clip_grad=dict(max_norm=1.))))
    wrapper = check.amp_optim_wrapper(model, cfg, torch.device('cpu'))
    assert type(wrapper) is check.CpuAmpOptimWrapper
    assert wrapper.clip_grad_kwargs == dict(max_norm=1.)
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
        assert model(torch.ones(1, 2)).dtype == torch.bfloat16
    assert not torch.is_autocast_enabled('cpu')
    cfg.optim_wrapper.type = 'MyOptimWrapper'
    with pytest.raises(check.GpuCheckError, match='MyOptimWrapper'):
        check.amp_optim_wrapper(model, cfg, torch.device('cpu'))


def test_report_writes_each_section_as_soon_as_it_is_measured(tmp_path,
                                                               capsys):
    md, js = tmp_path / 'r.md', tmp_path / 'r.json'
    md.write_text('an older report\n')
    r = report.Report('## title', dict(device='cpu'), str(md), str(js))
    assert md.read_text() == '## title\n\n'  # truncated, then the title
    r.add('first', '### first\n\n| a |', dict(x=1), True)
    # on disk before the next section is measured
    assert md.read_text() == '## title\n\n### first\n\n| a |\n\n'
    saved = json.loads(js.read_text())
    assert saved['sections'] == [dict(name='first', ok=True,
                                      result=dict(x=1))]
    assert saved['ok'] and not saved['complete']
    r.add('second', '### second', dict(error='boom'), False)
    assert not r.ok and not json.loads(js.read_text())['ok']
    r.finish('done')
    assert json.loads(js.read_text())['complete']
    assert md.read_text().endswith('### second\n\ndone\n\n')
    assert capsys.readouterr().out == md.read_text()


def test_a_section_that_raises_keeps_the_sections_before_it(tmp_path):
    """A crash in the last check (here a pair that raises) is one failed
    section: what was measured before it is in the files."""
    md, js = tmp_path / 'r.md', tmp_path / 'r.json'
    r = report.Report('## title', {}, str(md), str(js))
    check._section(r, 'measured', lambda: dict(ok=True, v=1),
                   lambda res: f"### measured\n\nv = {res['v']}")

    def crash():
        raise MemoryError('CUDA out of memory')

    check._section(r, 'last', crash, None)
    text = md.read_text()
    assert '### measured\n\nv = 1' in text
    assert '### last\n\nFAILED: MemoryError: CUDA out of memory' in text
    saved = json.loads(js.read_text())
    assert [s['ok'] for s in saved['sections']] == [True, False]
    assert not saved['ok']


def test_deform_conv_comparison_fails_on_nan():
    ref = [torch.ones(2, 3), torch.ones(2), torch.ones(4), torch.ones(1)]
    close = [t * (1 + 2**-14) for t in ref]  # exact in float32
    diffs = deform.relative_differences(close, ref)
    assert diffs == dict.fromkeys(deform.QUANTITIES, 2**-14)
    assert 2**-14 < deform.RTOL and deform.row_ok(diffs)
    assert not deform.row_ok(dict(diffs, grad_offset=2 * deform.RTOL))
    # a nan anywhere in a gradient (as .grad of a non-leaf gave) fails
    with_nan = list(close)
    with_nan[1] = torch.tensor([1., math.nan])
    diffs = deform.relative_differences(with_nan, ref)
    assert math.isnan(diffs['grad_input'])
    assert not deform.row_ok(diffs)
    # nan first or last: max() of a list would skip it, the check does not
    assert not deform.row_ok(dict(diffs, output=math.nan, grad_input=0.))
    assert not deform.row_ok(dict(diffs, grad_weight=math.nan,
                                  grad_input=0.))
    # a reference that is all zero cannot vouch for anything
    zero = [torch.zeros_like(t) for t in ref]
    assert not deform.row_ok(deform.relative_differences(zero, zero))


def test_deform_conv_gradients_are_real_and_a_wrong_kernel_fails(
        monkeypatch):
    """The section compares real numbers: the gradients with respect to
    input and offsets are finite and non-zero on both kernels, and
    torchvision's kernel with a shifted offset no longer passes."""
    monkeypatch.setitem(deform.SHAPE, 'size', 12)  # fast here
    cpu = torch.device('cpu')
    for backend in ('mmcv', 'torchvision'):
        _, _, (out, grad_x, grad_offset, grad_w) = deform.run_deform_conv(
            cpu, backend)
        for grad in (grad_x, grad_offset, grad_w):
            assert torch.isfinite(grad).all() and grad.abs().max() > 0
    result = deform.check_deform_conv(cpu)
    assert result['ok']
    assert all(r['output_dtype'] == 'torch.float32' for r in result['rows'])
    assert max(result['rows'][0]['rel_diffs'].values()) < 1e-5

    def shifted(x, offset, *args, **kwargs):
        return tv(x, offset + 0.05, *args, **kwargs)

    tv = deform_conv.tv_deform_conv2d
    monkeypatch.setattr(deform_conv, 'tv_deform_conv2d', shifted)
    result = deform.check_deform_conv(cpu)
    assert not result['ok']
    assert result['rows'][0]['rel_diffs']['output'] > 1e-3
    assert '| no | torchvision |' in deform.format_deform(result)


def test_sdist_is_found_and_checked_without_building_it(tmp_path):
    data = b'not really a tarball'
    src = tmp_path / 'mmcv-2.1.0.tar.gz'
    src.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    page = dict(files=[
        dict(filename='mmcv-2.1.0-py3-none-any.whl', url='w',
             hashes=dict(sha256='0')),
        dict(filename='mmcv-2.1.0.tar.gz', url='../../files/mmcv-2.1.0.tar.gz',
             hashes=dict(sha256=sha)),
    ])
    url, found_sha, name = wheels.find_sdist(
        page, 'https://example.org/simple/mmcv/', 'mmcv', '2.1.0')
    assert (url, found_sha, name) == (
        'https://example.org/files/mmcv-2.1.0.tar.gz', sha,
        'mmcv-2.1.0.tar.gz')
    with pytest.raises(LookupError, match='mmcv-2.0.0.tar.gz'):
        wheels.find_sdist(page, 'https://example.org/simple/mmcv/', 'mmcv',
                          '2.0.0')
    out = tmp_path / 'out.tar.gz'
    wheels.download(src.as_uri(), sha, str(out))
    assert out.read_bytes() == data
    with pytest.raises(ValueError, match='sha256'):
        wheels.download(src.as_uri(), '0' * 64, str(tmp_path / 'bad'))
    assert not (tmp_path / 'bad').exists()


def test_download_wheels_includes_mmdet_and_fetches_sdists_directly():
    """The wheel list has mmdet (MMPose 1.3.2 imports it) and its needs,
    the dependency check looks for them, and the sdists are not passed to
    pip download (which would run mmcv's setup.py)."""
    text = open(SCRIPT).read()
    download = text[text.index('download_wheels() {'):]
    download = download[:download.index('\n}\n')]
    for name in ('mmdet==3.3.0', 'pycocotools', 'shapely', 'terminaltables',
                 'six'):
        assert name in download
    assert '--no-binary' not in download
    assert 'gpu_check.wheels "$dir" mmcv==2.1.0 xtcocotools==1.14.3' in \
        download
    check_line = text[text.index('deps_ok='):]
    assert "'mmdet'" in check_line and "'3.3.0'" in check_line
    for module in ('pycocotools', 'shapely', 'terminaltables', 'six'):
        assert f"'{module}'" in check_line
