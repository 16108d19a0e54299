"""Side-by-side latency (and peak memory) of two configs in one process.

Usage::

    python -m mmpose_attn.tools.analysis.benchmark CONFIG_A CONFIG_B \\
        [--mode forward|train] [--batch-size N] [--iters N] [--warmup N] \\
        [--device cpu|cuda] [--input-shape H W] [--cfg-options k=v ...] \\
        [--num-threads N] [--no-memory]

Both models are built offline (no weights loaded or downloaded) and timed
*interleaved* -- A, B, A, B, ... -- so that drifts of a shared, noisy machine
hit both alike; the report gives per-model median and inter-quartile range
(ms per iteration) and the ratio of medians B/A. Timing and memory come from
:mod:`measure`, the core shared with ``compare_training`` and the GPU check.

Modes:
    forward: inference ``model._forward`` (backbone + neck + head, no
        decoding) on a random ``N x 3 x H x W`` batch, ``torch.no_grad``,
        eval mode. ``H x W``: the codec's input size or ``--input-shape``.
    train: one training step -- forward, loss, backward (gradients freed
        between steps, no optimizer update) -- on a batch synthesised by the
        config's own ``train_pipeline`` (everything after ``LoadImage``, with
        the config's codec in ``GenerateTarget``) from random images and
        random in-frame keypoints, then the config's data preprocessor. The
        batch is prepared once, before timing.

Peak memory of a step (extra over what is resident before it: activations,
gradients, workspaces; weights and the batch excluded), by
:class:`~measure.PeakMemory`: on CUDA over one extra step; on the CPU during
the first step of a fresh subprocess per model, so that neither the other
model nor memory cached by the allocator from earlier steps hides the peak
(this includes allocator overhead).
"""
import argparse
import importlib
import multiprocessing as mp
import sys
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from torch import nn

from .measure import (ConfigLike, PeakMemory, build_model, input_hw_of,
                      load_config, median_iqr, parse_hw, time_interleaved)


def _train_dataset_cfg(cfg: Config) -> dict:
    dataset = cfg.get('train_dataloader', {}).get('dataset', None)
    # Unwrap RepeatDataset-style wrappers.
    while isinstance(dataset, dict) and 'pipeline' not in dataset \
            and isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    if not isinstance(dataset, dict) or 'pipeline' not in dataset:
        raise ValueError(
            f'config {cfg.filename}: train mode needs '
            'train_dataloader.dataset.pipeline to synthesise a batch')
    return dataset


def synthetic_train_batch(cfg: Config, batch_size: int, seed: int = 0
                          ) -> dict:
    """A collated (not yet preprocessed) training batch made by ``cfg``'s
    own train pipeline from random images with random keypoints.

    Top-down configs get one person per image (bbox around the keypoints);
    bottom-up configs (``data_mode='bottomup'``) two.
    """
    from mmengine.dataset import Compose, pseudo_collate
    from mmpose.apis.inference import dataset_meta_from_config

    dataset = _train_dataset_cfg(cfg)
    meta = dataset_meta_from_config(cfg, dataset_mode='train')
    if meta is None:
        raise ValueError(
            f'config {cfg.filename}: no metainfo for dataset '
            f"{dataset.get('type')} (set train_dataloader.dataset.metainfo)")
    pipeline = Compose([
        t for t in dataset['pipeline']
        if not str(t.get('type', '')).startswith('LoadImage')
    ])
    bottomup = dataset.get('data_mode', 'topdown') == 'bottomup'
    num_instances = 2 if bottomup else 1
    h, w = input_hw_of(cfg)
    img_h, img_w = (h, w) if bottomup else (int(h * 1.25), int(w * 1.25))
    k = meta['num_keypoints']
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(batch_size):
        # Instances in the central 60% of the image, each its own region.
        x0 = rng.uniform(0.2, 0.3, num_instances) * img_w
        y0 = rng.uniform(0.2, 0.3, num_instances) * img_h
        bw = rng.uniform(0.4, 0.5, num_instances) * img_w
        bh = rng.uniform(0.4, 0.5, num_instances) * img_h
        kpts = np.stack([
            x0[:, None] + rng.uniform(0, 1, (num_instances, k)) * bw[:, None],
            y0[:, None] + rng.uniform(0, 1, (num_instances, k)) * bh[:, None]
        ], axis=-1).astype(np.float32)
        bbox = np.stack([x0, y0, x0 + bw, y0 + bh], axis=1).astype(np.float32)
        results = dict(
            img=rng.integers(0, 256, (img_h, img_w, 3), dtype=np.uint8),
            img_shape=(img_h, img_w), ori_shape=(img_h, img_w),
            img_path=f'synthetic_{i}.jpg', img_id=i,
            id=list(range(num_instances)) if bottomup else i,
            category_id=[1] * num_instances if bottomup else 1, bbox=bbox,
            bbox_score=np.ones(num_instances, dtype=np.float32),
            keypoints=kpts,
            keypoints_visible=np.ones((num_instances, k), dtype=np.float32),
            num_keypoints=[k] * num_instances if bottomup else k,
            area=(bw * bh).astype(np.float32),
            iscrowd=[0] * num_instances if bottomup else 0,
            segmentation=None, invalid_segs=[],
            raw_ann_info=[] if bottomup else {})
        for key in ('dataset_name', 'upper_body_ids', 'lower_body_ids',
                    'flip_pairs', 'dataset_keypoint_weights', 'flip_indices',
                    'skeleton_links', 'sigmas'):
            if key in meta:
                results[key] = meta[key]
        try:
            packed = pipeline(results)
        except Exception as e:
            raise RuntimeError(
                f'config {cfg.filename}: synthesising a training batch with '
                f'its train_pipeline failed: {type(e).__name__}: {e}') from e
        if packed is None:
            raise RuntimeError(
                f'config {cfg.filename}: its train_pipeline dropped the '
                'synthetic sample')
        samples.append(packed)
    return pseudo_collate(samples)


def make_step(model: nn.Module, cfg: Config, mode: str, batch_size: int,
              input_hw: Tuple[int, int], device: str) -> Callable[[], None]:
    """A closure running one benchmark iteration of ``model``."""
    if mode == 'forward':
        model.eval()
        inputs = torch.randn(batch_size, 3, *input_hw, device=device)

        def step():
            with torch.no_grad():
                model._forward(inputs)

        return step
    if mode == 'train':
        model.train()
        batch = synthetic_train_batch(cfg, batch_size)
        with torch.no_grad():
            data = model.data_preprocessor(batch, training=True)

        def step():
            model.zero_grad(set_to_none=True)
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
            loss.backward()

        return step
    raise ValueError(f'unknown mode {mode!r} (forward|train)')


def _cpu_peak_worker(config, cfg_options, mode, batch_size, input_hw,
                     num_threads, queue) -> None:
    try:
        torch.set_num_threads(num_threads)
        cfg = load_config(config, cfg_options)
        step = make_step(build_model(cfg), cfg, mode, batch_size, input_hw,
                         'cpu')
        with PeakMemory('cpu') as peak:
            step()
        queue.put((peak.bytes, peak.method))
    except BaseException as e:  # reported to the parent, not swallowed
        queue.put(RuntimeError(f'{type(e).__name__}: {e}'))


def _cpu_peak_step_bytes(jobs: Sequence[tuple]) -> List[Tuple[int, str]]:
    """:class:`PeakMemory` of the first step of each ``(config,
    cfg_options, mode, batch_size, input_hw)`` job, each in its own fresh
    process (concurrently), so that neither the other model nor memory
    cached by the allocator from earlier steps hides the peak.

    Processes fork from a forkserver that imported this module once (spawn
    where forkserver is unavailable), so each starts without any model built
    and without re-importing torch/MMPose.
    """
    # By its importable name even when this file runs as ``__main__``.
    module = 'mmpose_attn.tools.analysis.benchmark'
    worker = importlib.import_module(module)._cpu_peak_worker
    if 'forkserver' in mp.get_all_start_methods():
        ctx = mp.get_context('forkserver')
        ctx.set_forkserver_preload([module])
    else:
        ctx = mp.get_context('spawn')
    procs = []
    for job in jobs:
        queue = ctx.Queue()
        proc = ctx.Process(
            target=worker, args=(*job, torch.get_num_threads(), queue))
        proc.start()
        procs.append((proc, queue, job[0]))
    results = []
    for proc, queue, config in procs:
        result = queue.get()
        proc.join()
        if isinstance(result, Exception):
            raise RuntimeError(f'memory probe of {config} failed: {result}')
        results.append(result)
    return results


def _progress(msg: str, enabled: bool) -> None:
    if enabled:
        print(f'\r[benchmark] {msg}', end='', file=sys.stderr, flush=True)


def benchmark(config_a: ConfigLike,
              config_b: ConfigLike,
              mode: str = 'forward',
              batch_size: int = 1,
              iters: int = 20,
              warmup: int = 5,
              device: str = 'cpu',
              input_shape: Optional[Sequence[int]] = None,
              cfg_options: Optional[dict] = None,
              measure_memory: bool = True,
              progress: bool = True) -> dict:
    """Time ``config_a`` and ``config_b`` interleaved; see module doc.

    Returns:
        dict: ``a`` and ``b`` (each ``config``, ``input_hw``, ``times_ms``,
        ``median_ms``, ``iqr_ms``, ``peak_mem_bytes`` or None), ``ratio``
        (median B / median A), ``mem_ratio`` (or None), ``mode``,
        ``batch_size``, ``device``, ``memory_method``.
    """
    if mode not in ('forward', 'train'):
        raise ValueError(f'unknown mode {mode!r} (forward|train)')
    if mode == 'train' and input_shape:
        raise ValueError('train mode uses the input size of each config\'s '
                         'train pipeline; --input-shape is for forward mode')
    if iters < 1 or warmup < 0 or batch_size < 1:
        raise ValueError('need iters >= 1, warmup >= 0, batch_size >= 1')
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError('--device cuda requested but CUDA is unavailable')

    configs = (config_a, config_b)
    entries, steps = [], []
    for config in configs:
        cfg = load_config(config, cfg_options)
        hw = parse_hw(input_shape) if input_shape else input_hw_of(cfg)
        name = config if isinstance(config, str) else cfg.filename
        entries.append(dict(config=name, input_hw=hw, peak_mem_bytes=None))
        steps.append(make_step(build_model(cfg, device), cfg, mode,
                               batch_size, hw, device))

    def on_round(i, times):
        last = '' if i < warmup else (
            f'  A {times[0][-1] * 1e3:.1f} ms  B {times[1][-1] * 1e3:.1f} ms')
        _progress(f'round {i + 1}/{warmup + iters}{last}', progress)

    times = time_interleaved(steps, iters, warmup, device, on_round)
    for e, t in zip(entries, times):
        e['times_ms'] = [s * 1e3 for s in t]
        e['median_ms'], e['iqr_ms'] = median_iqr(e['times_ms'])

    memory_method = None
    if measure_memory:
        _progress('peak memory', progress)
        if str(device).startswith('cuda'):
            for e, step in zip(entries, steps):
                with PeakMemory(device) as peak:
                    step()
                e['peak_mem_bytes'], memory_method = peak.bytes, peak.method
        else:
            jobs = [(c, cfg_options, mode, batch_size, e['input_hw'])
                    for c, e in zip(configs, entries)]
            for e, (peak, memory_method) in zip(entries,
                                                _cpu_peak_step_bytes(jobs)):
                e['peak_mem_bytes'] = peak
    if progress:
        print(file=sys.stderr)
    a, b = entries
    mem_ratio = None
    if measure_memory and a['peak_mem_bytes']:
        mem_ratio = b['peak_mem_bytes'] / a['peak_mem_bytes']
    return dict(
        a=a, b=b, ratio=b['median_ms'] / a['median_ms'], mem_ratio=mem_ratio,
        mode=mode, batch_size=batch_size, device=str(device),
        memory_method=memory_method, iters=iters, warmup=warmup)


def format_report(result: dict) -> str:
    lines = [
        f"mode={result['mode']} batch={result['batch_size']} "
        f"device={result['device']} iters={result['iters']} "
        f"warmup={result['warmup']} torch_threads={torch.get_num_threads()}",
        '| | config | input (HxW) | median (ms) | IQR (ms) | peak mem (MB) |',
        '| :-: | :-- | :-: | --: | --: | --: |',
    ]
    for tag in ('a', 'b'):
        e = result[tag]
        mem = e['peak_mem_bytes']
        mem = '-' if mem is None else f'{mem / 2**20:.1f}'
        h, w = e['input_hw']
        lines.append(f"| {tag.upper()} | {e['config']} | {h}x{w} | "
                     f"{e['median_ms']:.2f} | {e['iqr_ms']:.2f} | {mem} |")
    summary = f"ratio B/A (median time): {result['ratio']:.3f}"
    if result['mem_ratio'] is not None:
        summary += (f"; ratio B/A (peak memory): {result['mem_ratio']:.3f} "
                    f"[{result['memory_method']}]")
    lines.append(summary)
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Interleaved latency (and peak memory) of config B '
        'relative to config A, in one process')
    add = parser.add_argument
    add('config_a', help='baseline config (path or pkg::)')
    add('config_b', help='compared config (path or pkg::)')
    add('--mode', choices=('forward', 'train'), default='forward',
        help='forward: inference _forward; train: forward + loss + backward '
        "on a batch from the config's train pipeline")
    add('--batch-size', type=int, default=1)
    add('--iters', type=int, default=20)
    add('--warmup', type=int, default=5)
    add('--device', default='cpu', help='cpu | cuda[:i]')
    add('--input-shape', type=int, nargs='+', default=None, metavar='N',
        help='forward mode input H W (or S); default: each codec input_size')
    add('--cfg-options', nargs='+', action=DictAction, default={},
        help='override config entries, xxx=yyy (applied to both configs)')
    add('--num-threads', type=int, default=None,
        help="torch CPU threads (default: torch's own choice)")
    add('--no-memory', dest='measure_memory', action='store_false',
        help='skip the peak memory measurement')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = vars(parse_args(argv))
    threads = args.pop('num_threads')
    if threads:
        torch.set_num_threads(threads)
    result = benchmark(**args)
    print(format_report(result))
    return result


if __name__ == '__main__':
    main()
