"""One-shot GPU check (run by ``scripts/gpu_check.sh``, which installs what
is missing first): each paper's main config against its baseline, trained
with AMP and timed interleaved, network inference latency, and the
deformable-convolution path on the device against its CPU result.

Usage (from the repository root, ``tools/`` on ``PYTHONPATH``)::

    python -m gpu_check [--device cuda|cpu] [--iters 30] [--warmup N] \\
        [--batch-size N] [--input-scale S] [--infer-iters N] \\
        [--infer-batch-sizes 1 32] [--pairs NAME ...] \\
        [--out report.md] [--json report.json]

Training: ``--iters`` steps of ``model.train_step`` per model (forward,
loss, backward, optimizer step: what the Runner runs) with the config's own
optimizer in mmengine's ``AmpOptimWrapper``, set up as MMPose's
``tools/train.py --amp`` does (float16 autocast and dynamic loss scaling on
CUDA). The batch is synthesised once by the config's own train pipeline from
random images (``benchmark.synthetic_train_batch``); both models of a pair
get the same batch size (the main config's) and alternate step by step
(``measure.time_interleaved``), so drifts of the machine hit both alike.
Reported: medians, iterations/s, images/s, peak memory (the model's weights,
buffers and optimizer state plus the growth of one more step,
``measure.PeakMemory``) and the ratio of median step times main / baseline,
against the issue's goal.

Inference: ``--infer-iters`` timed calls of the network (``model._forward``:
backbone, neck and head, no decoding) in float32 under ``torch.no_grad``, as
MMPose's test path runs it, at each ``--infer-batch-sizes``, interleaved.

Deformable convolution: :mod:`.deform`.

Each pair and the deformable convolution are one section of the report
(:mod:`.report`), written as soon as it is measured; a section that raises
is reported as failed and the others still run.

On the CPU (``--device cpu``) this is a smoke run that keeps the check from
rotting: the same code on each paper's tiny config and a tiny baseline of
the same kind (:attr:`Pair.cpu`), batch 2, accuracy logs off (MMPose
computes them in numpy, which has no bfloat16). mmengine 0.10.7 refuses
``AmpOptimWrapper`` without an accelerator, so there the config's optimizer
runs in :class:`CpuAmpOptimWrapper`: the same bfloat16 autocast around the
forward pass, no loss scaling (the GradScaler is CUDA-only). Exit status: 0,
1 when a section fails (a loss not finite, the deformable convolution
disagreeing, an error), 2 when the check cannot run here; missed speed goals
are reported, not failed.
"""
import argparse
import copy
import gc
import math
import os.path as osp
import platform
import sys
import time
import traceback
from contextlib import contextmanager
from typing import NamedTuple, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.optim import AmpOptimWrapper, OptimWrapper, build_optim_wrapper

from mmpose_attn.tools.analysis.benchmark import synthetic_train_batch
from mmpose_attn.tools.analysis.measure import (PeakMemory, build_model,
                                                input_hw_of, load_config,
                                                median_iqr, time_interleaved)
from .deform import check_deform_conv, format_deform
from .report import Report


class Pair(NamedTuple):
    """A paper's main config and the baseline its goal is stated against.

    ``baseline_options`` are ``--cfg-options``-style overrides of the
    baseline config; ``goal`` is the largest allowed ratio of median
    training-step times main / baseline (``None``: reported only). ``cpu``:
    the ``(config, options)`` of baseline and main for the CPU smoke run,
    the papers' tiny configs.
    """
    name: str
    baseline: str
    main: str
    goal: Optional[float]
    baseline_label: str
    baseline_options: Optional[dict]
    cpu: tuple


# this repository's configs (the harness runs from the checkout)
_CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))), 'configs', '')
_MMPOSE_DEKR_W32 = ('mmpose::body_2d_keypoint/dekr/coco/'
                    'dekr_hrnet-w32_8xb10-140e_coco-512x512.py')
_MMPOSE_HRNET_W32 = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
                     'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')

# DEKRHead as SAMKRHead: no attention, c=15, two adaptive blocks (same
# state dict), on the deformable convolution that has a GPU kernel without
# mmcv's CUDA ops.
_DEKR_HEAD = {
    'model.head.type': 'SAMKRHead',
    'model.head.attention_cfg': None,
    'model.head.num_displacement_filters_per_keypoint': 15,
    'model.head.num_adaptive_blocks': 2,
}
_TINY_HOURGLASS = (_CONFIGS + 'spcnet/td-hm_hourglass2-tiny_1xb2-2e_toy-'
                   '64x64.py')
_TINY_SADINET = (_CONFIGS + 'sadinet/sadinet_rfm-hourglass-tiny_1xb8-1e_'
                 'toy-mpii-64x64.py')
_TINY_SGHRNET = (_CONFIGS + 'sghrnet/sghrnet_hrnet-tiny_1xb2-1e_coco-'
                 '128x96.py')
# The tiny SG-HRNet's branches (one block each, 8-64 channels) as a stock
# HRNet: the SG-HRNet-only arguments (guidance, with_seg_logits) dropped.
_TINY_HRNET_EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                num_blocks=(1, ), num_channels=(16, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                num_blocks=(1, 1), num_channels=(8, 16)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC',
                num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC',
                num_blocks=(1, 1, 1, 1), num_channels=(8, 16, 32, 64)),
    upsample=dict(mode='bilinear', align_corners=False))
_TINY_SAMKR = _CONFIGS + 'samkr/samkr_hrnet-tiny_1xb2-2e_coco-128x128.py'

PAIRS = (
    Pair('SPCNet', _CONFIGS + 'spcnet/td-hm_hourglass8_4xb12-170e_mpii-'
         '256x256.py', _CONFIGS + 'spcnet/spcnet_dilated-hourglass8-r2_'
         '4xb12-170e_mpii-256x256.py', 1.3, 'Newell 8-stack hourglass', None,
         ((_TINY_HOURGLASS, None), (_CONFIGS + 'spcnet/spcnet_dilated-'
                                    'hourglass2-tiny_1xb2-2e_toy-64x64.py',
                                    None))),
    Pair('SADI-Net', _CONFIGS + 'sadinet/td-hm_hourglass8_2xb32-210e_mpii-'
         '256x256.py', _CONFIGS + 'sadinet/sadinet_rfm-hourglass8_2xb32-'
         '210e_mpii-256x256.py', None, 'hourglass (Tables 3-4 baseline)',
         None, ((_TINY_HOURGLASS, None), (_TINY_SADINET, None))),
    Pair('SADI-Net DLM', _CONFIGS + 'sadinet/td-hm_rfm-hourglass8_2xb32-'
         '210e_mpii-256x256.py', _CONFIGS + 'sadinet/sadinet_rfm-hourglass8_'
         '2xb32-210e_mpii-256x256.py', 1.1, 'same model without SFM + DLM',
         None, ((_TINY_SADINET, {
             'model.backbone.level_channels': None,  # no SFM levels
             'model.head': dict(_delete_=True, type='SPCNetHead',
                                in_channels=16, out_channels=16,
                                num_stacks=2, use_fused=False,
                                decoder=dict(type='MSRAHeatmap',
                                             input_size=(64, 64),
                                             heatmap_size=(16, 16), sigma=2))
         }), (_TINY_SADINET, None))),
    Pair('SG-HRNet', _MMPOSE_HRNET_W32, _CONFIGS + 'sghrnet/sghrnet_hrnet-'
         'w32_1xb32-210e_coco-256x192.py', 1.03, 'MMPose HRNet-W32', None,
         ((_TINY_SGHRNET, {
             'model.backbone': dict(_delete_=True, type='HRNet',
                                    in_channels=3, init_cfg=None,
                                    extra=_TINY_HRNET_EXTRA),
             'model.head': dict(_delete_=True, type='HeatmapHead',
                                in_channels=8, out_channels=17,
                                deconv_out_channels=None,
                                decoder=dict(type='MSRAHeatmap',
                                             input_size=(96, 128),
                                             heatmap_size=(24, 32), sigma=1))
         }), (_TINY_SGHRNET, None))),
    Pair('SAMKR', _MMPOSE_DEKR_W32, _CONFIGS + 'samkr/samkr_hrnet-w32_'
         '8xb10-140e_coco-512x512.py', 1.05, 'MMPose DEKR-W32', _DEKR_HEAD,
         ((_TINY_SAMKR, _DEKR_HEAD), (_TINY_SAMKR, None))),
)

# CPU smoke-run defaults (see --help); CUDA runs use the configs' own.
CPU_DEFAULTS = dict(batch_size=2, warmup=0, infer_batch_sizes=[1, 2])
CUDA_DEFAULTS = dict(batch_size=None, warmup=5, infer_batch_sizes=[1, 32])
# Inputs are rounded to multiples of this: stride 4 x four 2x poolings
# (Newell's hourglass), HRNet's stride-32 branch.
SIZE_DIVISOR = 64


class GpuCheckError(RuntimeError):
    """A check that cannot run here (e.g. CUDA asked for, none present)."""


def check_device(device: str) -> torch.device:
    """The device to run on, or :class:`GpuCheckError` saying why not."""
    dev = torch.device(device)
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise GpuCheckError(
                f'--device {device} asked for, but torch '
                f'{torch.__version__} sees no CUDA GPU '
                '(torch.cuda.is_available() is False); use --device cpu '
                'for the CPU smoke run')
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise GpuCheckError(
                f'--device {device}: only {torch.cuda.device_count()} '
                'CUDA device(s)')
    elif dev.type != 'cpu':
        raise GpuCheckError(f'--device {device}: cpu or cuda[:i] only')
    return dev


def scale_input_size(cfg: Config, scale: float) -> Config:
    """``cfg`` with every codec/pipeline ``input_size`` scaled (to
    multiples of :data:`SIZE_DIVISOR`) and each ``heatmap_size`` beside it
    keeping its stride; ``scale=1`` is a no-op."""
    if scale == 1:
        return cfg

    def scaled(size):
        return tuple(
            max(SIZE_DIVISOR,
                SIZE_DIVISOR * int(round(s * scale / SIZE_DIVISOR)))
            for s in size)

    def visit(node):
        if isinstance(node, dict):
            size = node.get('input_size')
            if isinstance(size, (list, tuple)) and len(size) == 2:
                new = scaled(size)
                heatmap = node.get('heatmap_size')
                if isinstance(heatmap, (list, tuple)) and len(heatmap) == 2:
                    node['heatmap_size'] = tuple(
                        n * h // s for n, h, s in zip(new, heatmap, size))
                node['input_size'] = new
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    cfg = copy.deepcopy(cfg)
    visit(cfg._cfg_dict)
    return cfg


class CpuAmpOptimWrapper(OptimWrapper):
    """What ``AmpOptimWrapper`` does on the CPU, where mmengine 0.10.7
    refuses to build it: bfloat16 autocast around the forward pass, no loss
    scaling (its GradScaler is CUDA-only)."""

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield


def amp_optim_wrapper(model, cfg: Config, device: torch.device):
    """The config's optimizer in ``AmpOptimWrapper``, as MMPose's
    ``tools/train.py --amp`` sets it up (on the CPU in
    :class:`CpuAmpOptimWrapper`)."""
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    wrapper_type = optim_cfg.get('type', 'OptimWrapper')
    if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
        raise GpuCheckError(f'{cfg.filename}: `--amp` does not support '
                            f'optim_wrapper type {wrapper_type}')
    optim_cfg.setdefault('loss_scale', 'dynamic')
    if device.type == 'cpu':
        optim_cfg.pop('loss_scale')
        optim_cfg.pop('dtype', None)
    optim_cfg.type = AmpOptimWrapper if device.type == 'cuda' else \
        CpuAmpOptimWrapper
    return build_optim_wrapper(model, optim_cfg)


def _state_bytes(model, optim_wrapper) -> int:
    """Weights, buffers and optimizer state held between steps."""
    tensors = list(model.parameters()) + list(model.buffers())
    for state in optim_wrapper.optimizer.state.values():
        tensors += [v for v in state.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors)


def _progress(msg: str) -> None:
    print(f'[gpu_check] {msg}', file=sys.stderr, flush=True)


def _load(config: str, options: Optional[dict], scale: float) -> Config:
    return scale_input_size(load_config(config, options), scale)


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def check_pair(pair: Pair, device: torch.device, iters: int, warmup: int,
               batch_size: Optional[int], input_scale: float,
               infer_iters: int, infer_batch_sizes: Sequence[int]) -> dict:
    """Train, then infer, both models of ``pair`` interleaved."""
    cuda = device.type == 'cuda'
    specs = ((pair.baseline, pair.baseline_options),
             (pair.main, None)) if cuda else pair.cpu
    cfgs = [_load(*spec, input_scale) for spec in specs]
    batch = batch_size or cfgs[1].train_dataloader.batch_size
    tiny = '' if cuda else ' (tiny)'
    labels = (pair.baseline_label + tiny, pair.name + tiny)
    _progress(f'{pair.name}: building models (batch {batch})')
    torch.manual_seed(0)
    models, wrappers, steps, losses = [], [], [], []
    for cfg in cfgs:
        model = build_model(cfg, device).train()
        if not cuda:
            # MMPose's heads compute their accuracy logs in numpy, which
            # has no bfloat16 (float16 on CUDA is fine)
            model.train_cfg = dict(compute_acc=False)
        wrapper = amp_optim_wrapper(model, cfg, device)
        data, record = synthetic_train_batch(cfg, batch), []
        models.append(model)
        wrappers.append(wrapper)
        losses.append(record)
        steps.append(lambda m=model, w=wrapper, d=data, r=record: r.append(
            float(m.train_step(d, w)['loss'])))

    _progress(f'{pair.name}: {warmup} + {iters} AMP training steps each')
    times = time_interleaved(steps, iters, warmup, device)
    train = []
    for spec, cfg, label, model, wrapper, step, t, record in zip(
            specs, cfgs, labels, models, wrappers, steps, times, losses):
        with PeakMemory(device) as peak:  # one more step
            step()
        median = median_iqr(t)[0]
        record = record[warmup:warmup + iters]
        train.append(dict(
            label=label, config=spec[0], input_hw=list(input_hw_of(cfg)),
            batch_size=batch, median_s=median, iters_per_s=1 / median,
            images_per_s=batch / median,
            peak_mem_bytes=_state_bytes(model, wrapper) + peak.bytes,
            memory_method=peak.method, losses=record,
            finite=all(math.isfinite(v) for v in record)))
    del wrappers, steps, wrapper, step, data
    for model in models:  # free training state before inference
        model.zero_grad(set_to_none=True)
        model.eval()
    _free(device)

    infer = {}
    for bs in infer_batch_sizes:
        _progress(f'{pair.name}: inference at batch {bs}')
        inputs = [torch.randn(bs, 3, *t['input_hw'], device=device)
                  for t in train]

        def forward(model, x):
            with torch.no_grad():
                model._forward(x)

        times = time_interleaved(
            [lambda m=m, x=x: forward(m, x) for m, x in zip(models, inputs)],
            infer_iters, min(warmup, 3), device)
        base, main = (median_iqr(t)[0] for t in times)
        infer[str(bs)] = dict(baseline_s=base, main_s=main, ratio=main / base)
    del models
    _free(device)

    ratio = train[1]['median_s'] / train[0]['median_s']
    return dict(
        name=pair.name, goal=pair.goal, train=train, ratio=ratio,
        goal_met=None if pair.goal is None else ratio <= pair.goal,
        infer=infer, ok=all(t['finite'] for t in train))


def _mib(nbytes: Optional[int]) -> str:
    return '-' if nbytes is None else f'{nbytes / 2**20:.0f}'


def format_pair(p: dict) -> str:
    """A pair's section: training and inference of both models."""
    sizes = list(p['infer'])
    lines = [
        f"### {p['name']}", '',
        '| model | input (HxW) | batch | it/s | img/s | peak mem (MiB) | '
        'step time vs baseline | ' + ' | '.join(
            f'infer ms, batch {bs}' for bs in sizes) + ' |',
        '| --- | :-: | --: | --: | --: | --: | --: |' + ' --: |' * len(sizes)
    ]
    for i, t in enumerate(p['train']):
        h, w = t['input_hw']
        ratio = '1.00x' if i == 0 else f"**{p['ratio']:.3f}x**"
        infer = [
            f"{v['main_s' if i else 'baseline_s'] * 1e3:.1f}" +
            (f" ({v['ratio']:.2f}x)" if i else '') for v in p['infer'].values()
        ]
        lines.append(
            f"| {t['label']} | {h}x{w} | {t['batch_size']} | "
            f"{t['iters_per_s']:.2f} | {t['images_per_s']:.1f} | "
            f"{_mib(t['peak_mem_bytes'])} | {ratio} | " + ' | '.join(infer) +
            ' |')
    goal = 'reported only' if p['goal'] is None else (
        f"goal <= {p['goal']}x: {'met' if p['goal_met'] else 'MISSED'}")
    losses = 'finite' if p['ok'] else 'NOT FINITE'
    lines += ['', f'Step time main / baseline {p["ratio"]:.3f}x ({goal}); '
              f'training losses {losses}.']
    return '\n'.join(lines)


def _machine(device: torch.device) -> str:
    if device.type == 'cuda':
        name = torch.cuda.get_device_name(device)
        return (f'{name}, torch {torch.__version__}, CUDA '
                f'{torch.version.cuda}, cudnn.benchmark='
                f'{torch.backends.cudnn.benchmark}')
    return (f'CPU ({platform.processor() or platform.machine()}), '
            f'{torch.get_num_threads()} torch threads, torch '
            f'{torch.__version__}')


def _section(report: Report, name: str, run, fmt) -> None:
    """Measure one section and write it at once; an error fails the
    section (and the report) but not the sections after it."""
    try:
        result = run()
        report.add(name, fmt(result), result, result['ok'])
    except Exception as e:  # noqa: B902  reported, then the next section
        _progress(f'{name} raised:\n{traceback.format_exc()}')
        report.add(name, f'### {name}\n\nFAILED: {type(e).__name__}: {e}',
                   dict(error=f'{type(e).__name__}: {e}'), False)


def gpu_check(device: str = 'cuda', iters: int = 30,
              warmup: Optional[int] = None, batch_size: Optional[int] = None,
              input_scale: float = 1.0, infer_iters: Optional[int] = None,
              infer_batch_sizes: Optional[Sequence[int]] = None,
              pairs: Optional[Sequence[str]] = None,
              out: Optional[str] = None, json: Optional[str] = None
              ) -> Report:
    """Run the whole check (see the module doc), writing the report to
    stdout, ``out`` (markdown) and ``json`` section by section. ``None``
    arguments take :data:`CUDA_DEFAULTS` or :data:`CPU_DEFAULTS`."""
    dev = check_device(device)
    defaults = CUDA_DEFAULTS if dev.type == 'cuda' else CPU_DEFAULTS
    warmup = defaults['warmup'] if warmup is None else warmup
    batch_size = batch_size or defaults['batch_size']
    infer_iters = infer_iters or min(20, iters)
    infer_batch_sizes = infer_batch_sizes or defaults['infer_batch_sizes']
    if iters < 1 or warmup < 0 or infer_iters < 1:
        raise GpuCheckError('need --iters >= 1, --warmup >= 0, '
                            '--infer-iters >= 1')
    by_name = {p.name.lower().replace(' ', '-'): p for p in PAIRS}
    unknown = [n for n in pairs or [] if n.lower() not in by_name]
    if unknown:
        raise GpuCheckError(f'unknown --pairs {unknown}; choose from '
                            f'{sorted(by_name)}')
    selected = [by_name[n.lower()] for n in pairs] if pairs else PAIRS
    if dev.index is not None:
        torch.cuda.set_device(dev)

    amp = 'float16' if dev.type == 'cuda' else 'bfloat16'
    meta = dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                machine=_machine(dev), device=str(dev), iters=iters,
                warmup=warmup, input_scale=input_scale)
    report = Report(
        f"## GPU check: {meta['machine']}\n\n{meta['date']}; device {dev}; "
        f'{iters} training steps per model after {warmup} warm-up, '
        f'interleaved, AMP ({amp} autocast); input scale {input_scale}. '
        'Times are medians; inference is the network only, float32, '
        'no_grad.', meta, out, json)
    start = time.perf_counter()
    for pair in selected:
        _section(report, pair.name, lambda p=pair: check_pair(
            p, dev, iters, warmup, batch_size, input_scale, infer_iters,
            infer_batch_sizes), format_pair)
    _progress('deformable convolution vs CPU')
    _section(report, 'deformable convolution',
             lambda: check_deform_conv(dev), format_deform)
    report.finish(f'Done in {time.perf_counter() - start:.0f} s: '
                  f"{'ok' if report.ok else 'FAILED'}.")
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='gpu_check',
        description='One-shot GPU check: AMP training speed of each paper '
        'model vs its baseline, inference latency, deformable convolution '
        'on the device vs the CPU.')
    add = parser.add_argument
    add('--device', default='cuda', help='cuda[:i] | cpu')
    add('--iters', type=int, default=30,
        help='timed training steps per model (30)')
    add('--warmup', type=int, default=None,
        help='untimed steps first (cuda 5, cpu 0; inference: at most 3)')
    add('--batch-size', type=int, default=None,
        help="training batch per pair (cuda: the main config's; cpu: 2)")
    add('--input-scale', type=float, default=1.0,
        help=f'scale of every input size, rounded to multiples of '
        f'{SIZE_DIVISOR} (1)')
    add('--infer-iters', type=int, default=None,
        help='timed inference calls per model and batch size (20, or '
        '--iters when smaller)')
    add('--infer-batch-sizes', type=int, nargs='+', default=None,
        help='inference batch sizes (cuda 1 32, cpu 1 2)')
    add('--pairs', nargs='+', default=None, help='subset of: ' + ', '.join(
        p.name.lower().replace(' ', '-') for p in PAIRS))
    add('--out', help='also write the markdown report here (section by '
        'section, as measured)')
    add('--json', help='write the raw results here (section by section)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    try:
        report = gpu_check(**vars(parse_args(argv)))
    except GpuCheckError as e:
        print(f'gpu_check: error: {e}', file=sys.stderr)
        return 2
    return 0 if report.ok else 1
