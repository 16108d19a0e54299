"""One-shot GPU check (run by ``scripts/gpu_check.sh``, which installs what
is missing first): each paper's main config against its baseline, trained
with AMP and timed interleaved, network inference latency, and the
deformable-convolution path on the device against its CPU result.

Usage::

    python -m mmpose_attn.tools.analysis.gpu_check [--device cuda|cpu] \\
        [--iters 30] [--warmup N] [--batch-size N] [--input-scale S] \\
        [--infer-iters N] [--infer-batch-sizes 1 32] [--pairs NAME ...] \\
        [--out report.md] [--json report.json]

Training: ``--iters`` steps of ``model.train_step`` per model (forward,
loss, backward, optimizer step: what the Runner runs) with the config's own
optimizer in mmengine's ``AmpOptimWrapper``, set up exactly as MMPose's
``tools/train.py --amp`` does (float16 autocast and dynamic loss scaling on
CUDA). The batch is synthesised once by the config's own train pipeline from
random images (:func:`benchmark.synthetic_train_batch`); both models of a
pair get the same batch size (the main config's) and alternate step by step,
so drifts of the machine hit both alike. Reported: medians, iterations/s,
images/s, peak memory (CUDA: the model's weights, buffers and optimizer state
plus the largest growth of allocated memory during one of its steps) and
the ratio of median step times main / baseline, against the issue's goal.

Inference: ``--infer-iters`` timed calls of the network (``model._forward``:
backbone, neck and head, no decoding) in float32 under ``torch.no_grad``, as
MMPose's test path runs it, at each ``--infer-batch-sizes``, interleaved.

Deformable convolution: :class:`~mmpose_attn.models.utils.deform_conv.
DeformConv2d` at SAMKR's shape (17 keypoint groups x 16 channels) with
offsets that reach fractional and out-of-image positions, forward and
backward on the device against the same module on the CPU (mmcv's compiled
kernel where available), in float32 and under the device's autocast.

On the CPU (``--device cpu``) this is a smoke run that keeps the check from
rotting: the same code on each paper's tiny config and a tiny baseline of
the same kind (:attr:`Pair.cpu`), batch 2, accuracy logs off (MMPose
computes them in numpy, which has no bfloat16). mmengine
0.10.7 refuses ``AmpOptimWrapper`` without an accelerator although its
autocast supports CPU bfloat16, so there the wrapper is built with that one
check bypassed: bfloat16 autocast, loss scaler disabled (the GradScaler is
CUDA-only). Exit status: 0, or 1 when a loss is not finite or the deformable
convolution disagrees; missed speed goals are reported, not failed.
"""
import argparse
import copy
import gc
import json
import math
import platform
import sys
import time
import warnings
from contextlib import contextmanager
from typing import Callable, List, NamedTuple, Optional, Sequence
from unittest import mock

import numpy as np
import torch
from mmengine.config import Config

from .benchmark import synthetic_train_batch
from .config_utils import build_model, input_hw_of, load_config


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
_TINY_HOURGLASS = ('mmpose_attn::spcnet/td-hm_hourglass2-tiny_1xb2-2e_toy-'
                   '64x64.py')
_TINY_SADINET = ('mmpose_attn::sadinet/sadinet_rfm-hourglass-tiny_1xb8-1e_'
                 'toy-mpii-64x64.py')
_TINY_SGHRNET = ('mmpose_attn::sghrnet/sghrnet_hrnet-tiny_1xb2-1e_coco-'
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
_TINY_SAMKR = 'mmpose_attn::samkr/samkr_hrnet-tiny_1xb2-2e_coco-128x128.py'

PAIRS = (
    Pair('SPCNet', 'mmpose_attn::spcnet/td-hm_hourglass8_4xb12-170e_mpii-'
         '256x256.py', 'mmpose_attn::spcnet/spcnet_dilated-hourglass8-r2_'
         '4xb12-170e_mpii-256x256.py', 1.3, 'Newell 8-stack hourglass', None,
         ((_TINY_HOURGLASS, None), ('mmpose_attn::spcnet/spcnet_dilated-'
                                    'hourglass2-tiny_1xb2-2e_toy-64x64.py',
                                    None))),
    Pair('SADI-Net', 'mmpose_attn::sadinet/td-hm_hourglass_2xb32-210e_mpii-'
         '256x256.py', 'mmpose_attn::sadinet/sadinet_rfm-hourglass_2xb32-'
         '210e_mpii-256x256.py', None, 'hourglass (Tables 3-4 baseline)',
         None, ((_TINY_HOURGLASS, None), (_TINY_SADINET, None))),
    Pair('SADI-Net DLM', 'mmpose_attn::sadinet/td-hm_rfm-hourglass_2xb32-'
         '210e_mpii-256x256.py', 'mmpose_attn::sadinet/sadinet_rfm-hourglass_'
         '2xb32-210e_mpii-256x256.py', 1.1, 'same model without SFM + DLM',
         None, ((_TINY_SADINET, {
             'model.head': dict(_delete_=True, type='SPCNetHead',
                                in_channels=16, out_channels=16,
                                num_stacks=2, use_fused=False,
                                decoder=dict(type='MSRAHeatmap',
                                             input_size=(64, 64),
                                             heatmap_size=(16, 16), sigma=2))
         }), (_TINY_SADINET, None))),
    Pair('SG-HRNet', _MMPOSE_HRNET_W32, 'mmpose_attn::sghrnet/sghrnet_hrnet-'
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
    Pair('SAMKR', _MMPOSE_DEKR_W32, 'mmpose_attn::samkr/samkr_hrnet-w32_'
         '8xb10-140e_coco-512x512.py', 1.05, 'MMPose DEKR-W32', _DEKR_HEAD,
         ((_TINY_SAMKR, _DEKR_HEAD), (_TINY_SAMKR, None))),
)

# CPU smoke-run defaults (see --help); CUDA runs use the configs' own.
CPU_DEFAULTS = dict(batch_size=2, input_scale=1.0, warmup=0,
                    infer_batch_sizes=[1, 2])
CUDA_DEFAULTS = dict(batch_size=None, input_scale=1.0, warmup=5,
                     infer_batch_sizes=[1, 32])
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


def _scaled(size, scale: float) -> tuple:
    """(w, h) scaled, each a multiple of :data:`SIZE_DIVISOR`."""
    return tuple(
        max(SIZE_DIVISOR,
            SIZE_DIVISOR * int(round(s * scale / SIZE_DIVISOR)))
        for s in size)


def scale_input_size(cfg: Config, scale: float) -> Config:
    """``cfg`` with every codec/pipeline ``input_size`` scaled (to
    multiples of :data:`SIZE_DIVISOR`) and each ``heatmap_size`` beside it
    keeping its stride. For the CPU smoke run; ``scale=1`` is a no-op."""
    if scale == 1:
        return cfg

    def visit(node):
        if isinstance(node, dict):
            size = node.get('input_size')
            if isinstance(size, (list, tuple)) and len(size) == 2:
                new = _scaled(size, scale)
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


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@contextmanager
def _amp_wrapper_on_cpu(device: torch.device):
    """mmengine 0.10.7's ``AmpOptimWrapper`` asserts an accelerator; on the
    CPU build it with that assertion bypassed (its autocast then runs CPU
    bfloat16, and the CUDA-only GradScaler disables itself)."""
    if device.type != 'cpu':
        yield
        return
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    with mock.patch.object(amp_optimizer_wrapper, 'is_cuda_available',
                           lambda: True), warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*GradScaler.*')
        yield


def amp_optim_wrapper(model, cfg: Config, device: torch.device):
    """The config's optimizer in ``AmpOptimWrapper``, as MMPose's
    ``tools/train.py --amp`` sets it up."""
    from mmengine.optim import build_optim_wrapper
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    wrapper_type = optim_cfg.get('type', 'OptimWrapper')
    if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
        raise GpuCheckError(f'{cfg.filename}: `--amp` does not support '
                            f'optim_wrapper type {wrapper_type}')
    optim_cfg.type = 'AmpOptimWrapper'
    optim_cfg.setdefault('loss_scale', 'dynamic')
    with _amp_wrapper_on_cpu(device):
        return build_optim_wrapper(model, optim_cfg)


def _state_bytes(model, optim_wrapper) -> int:
    """Weights, buffers and optimizer state held between steps."""
    tensors = list(model.parameters()) + list(model.buffers())
    for state in optim_wrapper.optimizer.state.values():
        tensors += [v for v in state.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors)


class _Entry:
    """One model of a pair: its training step and what was measured."""

    def __init__(self, label: str, config: str, cfg: Config,
                 device: torch.device, batch_size: int):
        self.label, self.config = label, config
        self.input_hw = input_hw_of(cfg)
        self.model = build_model(cfg, device)
        self.model.train()
        self.optim_wrapper = amp_optim_wrapper(self.model, cfg, device)
        self.batch = synthetic_train_batch(cfg, batch_size)
        self.batch_size = batch_size
        self.device = device
        self.times: List[float] = []
        self.losses: List[float] = []
        self.step_growth = 0

    def step(self, timed: bool) -> None:
        device = self.device
        _sync(device)
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(device)
            before = torch.cuda.memory_allocated(device)
        t0 = time.perf_counter()
        logs = self.model.train_step(self.batch, self.optim_wrapper)
        _sync(device)
        elapsed = time.perf_counter() - t0
        if device.type == 'cuda':
            self.step_growth = max(
                self.step_growth,
                torch.cuda.max_memory_allocated(device) - before)
        if timed:
            self.times.append(elapsed)
            self.losses.append(float(logs['loss']))

    def train_result(self) -> dict:
        median = float(np.median(self.times))
        peak = None
        if self.device.type == 'cuda':
            peak = _state_bytes(self.model, self.optim_wrapper) + \
                self.step_growth
        return dict(
            label=self.label, config=self.config,
            input_hw=list(self.input_hw), batch_size=self.batch_size,
            median_s=median, iters_per_s=1 / median,
            images_per_s=self.batch_size / median, peak_mem_bytes=peak,
            losses=self.losses,
            finite=all(math.isfinite(v) for v in self.losses))


def _progress(msg: str) -> None:
    print(f'[gpu_check] {msg}', file=sys.stderr, flush=True)


def _interleaved(entries: Sequence, run: Callable, warmup: int,
                 iters: int) -> None:
    for i in range(warmup + iters):
        for e in entries:
            run(e, i >= warmup)


def _load(config: str, options: Optional[dict], scale: float,
          device: torch.device) -> Config:
    cfg = scale_input_size(load_config(config, options), scale)
    if device.type == 'cpu':
        # MMPose's heads compute their accuracy logs in numpy, which has no
        # bfloat16 (float16 on CUDA is fine)
        cfg.model.train_cfg = dict(cfg.model.get('train_cfg') or {},
                                   compute_acc=False)
    return cfg


def check_pair(pair: Pair, device: torch.device, iters: int, warmup: int,
               batch_size: Optional[int], input_scale: float,
               infer_iters: int, infer_batch_sizes: Sequence[int]) -> dict:
    """Train, then infer, both models of ``pair`` interleaved."""
    base, main = ((pair.baseline, pair.baseline_options),
                  (pair.main, None)) if device.type == 'cuda' else pair.cpu
    main_cfg = _load(*main, input_scale, device)
    base_cfg = _load(*base, input_scale, device)
    batch = batch_size or main_cfg.train_dataloader.batch_size
    _progress(f'{pair.name}: building models (batch {batch})')
    torch.manual_seed(0)
    tiny = '' if device.type == 'cuda' else ' (tiny)'
    entries = [
        _Entry(pair.baseline_label + tiny, base[0], base_cfg, device, batch),
        _Entry(pair.name + tiny, main[0], main_cfg, device, batch),
    ]
    _progress(f'{pair.name}: {warmup} + {iters} AMP training steps each')
    _interleaved(entries, lambda e, timed: e.step(timed), warmup, iters)
    train = [e.train_result() for e in entries]
    for e in entries:  # free training state before inference
        e.optim_wrapper = e.batch = None
        e.model.zero_grad(set_to_none=True)
        e.model.eval()
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()

    infer = {}
    for bs in infer_batch_sizes:
        _progress(f'{pair.name}: inference at batch {bs}')
        inputs = [
            torch.randn(bs, 3, *e.input_hw, device=device) for e in entries
        ]
        times = [[], []]

        def run(i, timed):
            _sync(device)
            t0 = time.perf_counter()
            with torch.no_grad():
                entries[i].model._forward(inputs[i])
            _sync(device)
            if timed:
                times[i].append(time.perf_counter() - t0)

        _interleaved([0, 1], run, min(warmup, 3), infer_iters)
        infer[bs] = [float(np.median(t)) for t in times]
    del entries
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()

    ratio = train[1]['median_s'] / train[0]['median_s']
    return dict(
        name=pair.name, goal=pair.goal, train=train, ratio=ratio,
        goal_met=None if pair.goal is None else ratio <= pair.goal,
        infer={str(bs): dict(baseline_s=t[0], main_s=t[1],
                             ratio=t[1] / t[0])
               for bs, t in infer.items()})


# SAMKR's displacement branch: 17 keypoint groups of 16 channels.
DEFORM_SHAPE = dict(batch=2, groups=17, channels_per_group=16, size=32)
DEFORM_RTOL = 1e-4


def check_deform_conv(device: torch.device) -> dict:
    """The deformable convolution on ``device`` against the CPU, float32
    (and under the device's autocast): max abs differences of the output
    and of the gradients of input, offsets and weight, each relative to the
    CPU result's largest magnitude."""
    from mmpose_attn.models.utils.deform_conv import DeformConv2d
    s = DEFORM_SHAPE
    channels = s['groups'] * s['channels_per_group']
    g = torch.Generator().manual_seed(0)
    x = torch.randn(s['batch'], channels, s['size'], s['size'], generator=g)
    # up to +-6 px: fractional positions everywhere, some out of the image
    offset = 6 * (2 * torch.rand(s['batch'], s['groups'] * 18, s['size'],
                                 s['size'], generator=g) - 1)
    grad_out = torch.randn(s['batch'], channels, s['size'], s['size'],
                           generator=g)
    # the reference: the models' CPU kernel (mmcv's); on the CPU compare torchvision's kernel with mmcv's (the models' CPU
    # kernel); on a GPU the kernel the models use there
    device_backend = 'torchvision' if device.type == 'cpu' else 'auto'

    def run(dev, backend, autocast=False):
        torch.manual_seed(0)
        conv = DeformConv2d(channels, channels, 3, padding=1,
                            groups=s['groups'], deform_groups=s['groups'],
                            backend=backend).to(dev)
        xi = x.to(dev).requires_grad_()
        oi = offset.to(dev).requires_grad_()
        with torch.autocast(dev.type, enabled=autocast,
                            dtype=_autocast_dtype(dev)):
            out = conv(xi, oi)
        out.backward(grad_out.to(dev, out.dtype))
        kernel = conv.backend_for(xi)
        return kernel, out.dtype, [
            t.detach().float().cpu()
            for t in (out, xi.grad, oi.grad, conv.weight.grad)
        ]

    cpu = torch.device('cpu')
    ref_kernel, _, ref = run(cpu, 'auto')
    rows = []
    for autocast in (False, True):
        kernel, dtype, got = run(device, device_backend, autocast)
        diffs = [
            float((a - b).abs().max() / b.abs().max().clamp(min=1e-12))
            for a, b in zip(got, ref)
        ]
        rows.append(
            dict(autocast=autocast, kernel=kernel, output_dtype=str(dtype),
                 rel_diffs=dict(zip(('output', 'grad_input', 'grad_offset',
                                     'grad_weight'), diffs)),
                 ok=max(diffs) <= DEFORM_RTOL and dtype == torch.float32))
    return dict(device=str(device), cpu_kernel=ref_kernel, shape=s,
                rtol=DEFORM_RTOL, rows=rows, ok=all(r['ok'] for r in rows))


def _autocast_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == 'cuda' else torch.bfloat16


def _mib(nbytes: Optional[int]) -> str:
    return '-' if nbytes is None else f'{nbytes / 2**20:.0f}'


def _machine(device: torch.device) -> str:
    if device.type == 'cuda':
        name = torch.cuda.get_device_name(device)
        return (f'{name}, torch {torch.__version__}, CUDA '
                f'{torch.version.cuda}, cudnn.benchmark='
                f'{torch.backends.cudnn.benchmark}')
    return (f'CPU ({platform.processor() or platform.machine()}), '
            f'{torch.get_num_threads()} torch threads, torch '
            f'{torch.__version__}')


def format_report(report: dict) -> str:
    """The markdown tables printed and written by ``--out``."""
    amp = 'float16' if report['device'].startswith('cuda') else 'bfloat16'
    lines = [
        f"## GPU check: {report['machine']}",
        '',
        f"{report['date']}; device {report['device']}; {report['iters']} "
        f"training steps per model after {report['warmup']} warm-up, "
        f'interleaved, AmpOptimWrapper ({amp} autocast); input scale '
        f"{report['input_scale']}. Times are medians.",
        '',
        '### Training (AMP)',
        '',
        '| method | model | input (HxW) | batch | it/s | img/s | '
        'peak mem (MiB) | step time vs baseline | goal |',
        '| --- | --- | :-: | --: | --: | --: | --: | --: | :-: |',
    ]
    for p in report['pairs']:
        for i, t in enumerate(p['train']):
            h, w = t['input_hw']
            if i == 0:
                ratio, goal = '1.00x', ''
            else:
                ratio = f"**{p['ratio']:.3f}x**"
                goal = ('-' if p['goal'] is None else
                        f"<= {p['goal']}x: "
                        f"{'met' if p['goal_met'] else 'MISSED'}")
            lines.append(
                f"| {p['name']} | {t['label']} | {h}x{w} | "
                f"{t['batch_size']} | {t['iters_per_s']:.2f} | "
                f"{t['images_per_s']:.1f} | {_mib(t['peak_mem_bytes'])} | "
                f'{ratio} | {goal} |')
    sizes = list(report['pairs'][0]['infer']) if report['pairs'] else []
    lines += [
        '',
        '### Inference (network only, float32, no_grad)',
        '',
        '| method | ' + ' | '.join(
            f'baseline / main ms (ratio), batch {bs}' for bs in sizes) + ' |',
        '| --- |' + ' --: |' * len(sizes),
    ]
    for p in report['pairs']:
        cells = [
            f"{i['baseline_s'] * 1e3:.1f} / {i['main_s'] * 1e3:.1f} "
            f"({i['ratio']:.2f}x)" for i in p['infer'].values()
        ]
        lines.append(f"| {p['name']} | " + ' | '.join(cells) + ' |')
    d = report['deform_conv']
    s = d['shape']
    lines += [
        '',
        f"### Deformable convolution on {d['device']} vs CPU "
        f"({d['cpu_kernel']} kernel)",
        '',
        f"batch {s['batch']}, {s['groups']} groups x "
        f"{s['channels_per_group']} channels, {s['size']}x{s['size']}, "
        'offsets up to +-6 px; max |difference| / max |CPU value|, '
        f"tolerance {d['rtol']:g}.",
        '',
        '| autocast | kernel | output dtype | output | grad input | '
        'grad offset | grad weight | ok |',
        '| --- | --- | --- | --: | --: | --: | --: | :-: |',
    ]
    for r in d['rows']:
        diffs = ' | '.join(f'{v:.1e}' for v in r['rel_diffs'].values())
        lines.append(f"| {'yes' if r['autocast'] else 'no'} | {r['kernel']} "
                     f"| {r['output_dtype']} | {diffs} | "
                     f"{'yes' if r['ok'] else 'NO'} |")
    return '\n'.join(lines)


def gpu_check(device: str = 'cuda', iters: int = 30,
              warmup: Optional[int] = None, batch_size: Optional[int] = None,
              input_scale: Optional[float] = None,
              infer_iters: Optional[int] = None,
              infer_batch_sizes: Optional[Sequence[int]] = None,
              pairs: Optional[Sequence[str]] = None) -> dict:
    """Run the whole check; see the module doc. ``None`` arguments take
    :data:`CUDA_DEFAULTS` or :data:`CPU_DEFAULTS`."""
    dev = check_device(device)
    defaults = CUDA_DEFAULTS if dev.type == 'cuda' else CPU_DEFAULTS
    warmup = defaults['warmup'] if warmup is None else warmup
    batch_size = batch_size or defaults['batch_size']
    input_scale = input_scale or defaults['input_scale']
    infer_iters = infer_iters or min(20, iters)
    infer_batch_sizes = infer_batch_sizes or defaults['infer_batch_sizes']
    if iters < 1 or warmup < 0 or infer_iters < 1:
        raise GpuCheckError('need --iters >= 1, --warmup >= 0, '
                            '--infer-iters >= 1')
    by_name = {p.name.lower().replace(' ', '-'): p for p in PAIRS}
    selected = PAIRS
    if pairs:
        unknown = [n for n in pairs if n.lower() not in by_name]
        if unknown:
            raise GpuCheckError(f'unknown --pairs {unknown}; choose from '
                                f'{sorted(by_name)}')
        selected = [by_name[n.lower()] for n in pairs]
    if dev.index is not None:
        torch.cuda.set_device(dev)

    t0 = time.perf_counter()
    results = [
        check_pair(p, dev, iters, warmup, batch_size, input_scale,
                   infer_iters, infer_batch_sizes) for p in selected
    ]
    _progress('deformable convolution vs CPU')
    deform = check_deform_conv(dev)
    report = dict(
        date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        machine=_machine(dev), device=str(dev), iters=iters, warmup=warmup,
        input_scale=input_scale, pairs=results, deform_conv=deform,
        seconds=time.perf_counter() - t0)
    report['ok'] = deform['ok'] and all(
        t['finite'] for p in results for t in p['train'])
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='One-shot GPU check: AMP training speed of each paper '
        'model vs its baseline, inference latency, deformable convolution '
        'on the device vs the CPU.')
    parser.add_argument('--device', default='cuda', help='cuda[:i] | cpu')
    parser.add_argument('--iters', type=int, default=30,
                        help='timed training steps per model (30)')
    parser.add_argument(
        '--warmup', type=int, default=None,
        help='untimed steps first (cuda 5, cpu 0; inference: at most 3)')
    parser.add_argument(
        '--batch-size', type=int, default=None,
        help='training batch per pair (cuda: the main config\'s; cpu: 2)')
    parser.add_argument(
        '--input-scale', type=float, default=None,
        help='scale of every input size, rounded to multiples of '
        f'{SIZE_DIVISOR} (1)')
    parser.add_argument(
        '--infer-iters', type=int, default=None,
        help='timed inference calls per model and batch size (20, or '
        '--iters when smaller)')
    parser.add_argument(
        '--infer-batch-sizes', type=int, nargs='+', default=None,
        help='inference batch sizes (cuda 1 32, cpu 1 2)')
    parser.add_argument(
        '--pairs', nargs='+', default=None,
        help='subset of: ' + ', '.join(
            p.name.lower().replace(' ', '-') for p in PAIRS))
    parser.add_argument('--out', help='also write the markdown report here')
    parser.add_argument('--json', help='write the raw results here')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report = gpu_check(
            device=args.device, iters=args.iters, warmup=args.warmup,
            batch_size=args.batch_size, input_scale=args.input_scale,
            infer_iters=args.infer_iters,
            infer_batch_sizes=args.infer_batch_sizes, pairs=args.pairs)
    except GpuCheckError as e:
        print(f'gpu_check: error: {e}', file=sys.stderr)
        return 2
    text = format_report(report)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)
    _progress(f"done in {report['seconds']:.0f} s; "
              f"{'ok' if report['ok'] else 'FAILED'}")
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
