"""Train configs side by side from the same seeds on the same data, and
compare what they learned.

Usage::

    python -m mmpose_attn.tools.analysis.compare_training CONFIG [CONFIG ...] \\
        --iters N [--seeds S] [--batch-size B] [--cfg-options k=v ...] \\
        [--out DIR] [--overfit] [--metric KEY] [--device cpu|cuda]

Each ``(config, seed)`` job is a stock mmengine ``Runner`` built from the
config (its model, pipelines, optimizer and evaluator) with
``randomness.seed = seed`` for ``seed`` in ``0..S-1``, so every config starts
from the same seeds and sees the data in the same order. The run is
iteration-based (``--iters``), at the optimizer's constant learning rate (no
schedule: a comparison of a few hundred iterations would otherwise hinge on
warm-ups and milestones sized for 100+ epochs). The config's own evaluator
scores the model on the config's validation set before the first and after
the last iteration. The table gives each config's gain (after - before) and,
for every config after the first, its gain minus the first config's seed by
seed (paired: same seed, same sample order) with the number of seeds in which
it is not below (the first config is the reference).

``--cfg-options`` applies to every config (e.g. ``train_dataloader.dataset.
data_root=... val_dataloader.dataset.ann_file=...``), so the same command
runs on any dataset in MMPose's COCO-style format.

``--overfit`` (top-down configs) is the overfit check on real images:
training and evaluation on the five real MPII images shipped in
``mmpose_attn/data/mmpose_samples/mpii`` (a config with other joints, e.g.
LSP's 14, sees them through its own ``KeypointConverter`` from MPII), batch
5, the config's pipeline without its random augmentation (an overfit test
memorises the images), scored by MMPose's ``PCKAccuracy`` at 0.2 of the
person box (``PCK``, a fraction).

Outputs in ``--out`` (default ``work_dirs/compare_training``):
``results.md`` (the table, also printed), ``results.json`` (every job's
numbers), ``<config>.png`` (the seed-0 model's prediction on the first
validation image, with the paper's attention maps where it has them) and
each job's mmengine work dir. Seconds per iteration are the median over the
run (data loading included); peak memory is the growth of the process's
resident set (CPU, ``VmHWM``, after handing memory freed by earlier jobs
back to the OS) or of ``torch.cuda.max_memory_allocated`` (CUDA) over the
job.
"""
import argparse
import copy
import ctypes
import gc
import json
import os
import os.path as osp
import re
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from mmpose_attn.data import SAMPLES_ROOT
from .config_utils import drop_pretrained, load_config

OVERFIT_BATCH = 5


def _metric_key(cfg: Config, metrics: dict, key: Optional[str]) -> str:
    """``key``, else the config's ``save_best`` metric, else the first."""
    if key is None:
        best = cfg.get('default_hooks', {}).get('checkpoint', {}).get(
            'save_best')
        key = best if isinstance(best, str) and best in metrics else None
    if key is None:
        key = next(iter(metrics))
    if key not in metrics:
        raise KeyError(f'{cfg.filename}: the evaluator gives no {key!r}; '
                       f'it gives {sorted(metrics)}')
    return key


def _find_mpii(dataset: dict) -> Optional[dict]:
    """The first ``MpiiDataset`` in a (combined) dataset config."""
    if dataset.get('type') == 'MpiiDataset':
        return dataset
    for sub in dataset.get('datasets', []) or []:
        found = _find_mpii(sub)
        if found is not None:
            return found
    return None


def overfit_config(cfg: Config,
                   samples_root: str = SAMPLES_ROOT) -> Config:
    """``cfg`` with training and evaluation on the five real MPII samples:
    batch 5, the train pipeline without random augmentation, and
    ``PCKAccuracy(thr=0.2, norm_item='bbox')``.

    A config whose training set maps MPII to other joints (LSP's
    ``CombinedDataset``) keeps that mapping and its ``metainfo``.
    """
    if cfg.get('data_mode', 'topdown') != 'topdown':
        raise ValueError(f'{cfg.filename}: --overfit is a top-down check on '
                         'the MPII samples; this config is '
                         f'{cfg.data_mode}')
    ann = osp.join(samples_root, 'mpii', 'test_mpii.json')
    if not osp.isfile(ann):
        raise FileNotFoundError(f'MPII samples not found: {ann}')
    train_set = cfg.train_dataloader.dataset
    converter, metainfo = [], None
    if train_set.get('type') == 'CombinedDataset':
        converter = (_find_mpii(train_set) or {}).get('pipeline') or []
        metainfo = train_set.get('metainfo')

    def samples(pipeline, test_mode):
        data = dict(
            type='MpiiDataset',
            data_root=samples_root,
            data_mode='topdown',
            ann_file='mpii/test_mpii.json',
            data_prefix=dict(img='mpii/'),
            test_mode=test_mode)
        if not converter:
            return dict(data, pipeline=pipeline)
        return dict(
            type='CombinedDataset',
            metainfo=metainfo,
            datasets=[dict(data, pipeline=converter)],
            pipeline=pipeline,
            test_mode=test_mode)

    train_pipeline = [
        t for t in train_set.pipeline if 'Random' not in t['type']
    ]
    val_pipeline = cfg.val_dataloader.dataset.pipeline
    loader = dict(
        batch_size=OVERFIT_BATCH,
        num_workers=0,
        persistent_workers=False)
    cfg.train_dataloader = dict(
        loader,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=samples(train_pipeline, False))
    cfg.val_dataloader = dict(
        loader,
        drop_last=False,
        sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
        dataset=samples(val_pipeline, True))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = dict(type='PCKAccuracy', thr=0.2, norm_item='bbox')
    cfg.test_evaluator = cfg.val_evaluator
    return cfg


def job_config(cfg: Config, iters: int, seed: int, work_dir: str,
               batch_size: Optional[int] = None) -> Config:
    """``cfg`` as one comparison job: ``iters`` iterations at the
    optimizer's constant learning rate, validation before (see
    :class:`ComparisonHook`) and after training only, no checkpoints, no
    pretrained download, quiet logs."""
    # yapf-formatting a config (the Runner logs and dumps it) takes seconds
    # on 2 cores
    cfg = Config(
        copy.deepcopy(cfg.to_dict()),
        filename=cfg.filename,
        format_python_code=False)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    # mmengine's iteration loop sleeps 2 s whenever a finite sampler's
    # dataloader runs out (every iteration on the five overfit samples)
    shuffle = cfg.train_dataloader.get('sampler', {}).get('shuffle', True)
    cfg.train_dataloader.sampler = dict(
        type='InfiniteSampler', shuffle=shuffle)
    cfg.train_cfg = dict(by_epoch=False, max_iters=iters, val_interval=iters)
    cfg.val_cfg = dict()
    cfg.param_scheduler = None
    cfg.auto_scale_lr = dict(enable=False, base_batch_size=1)
    cfg.load_from = None
    cfg.resume = False
    cfg.log_level = 'WARNING'
    cfg.default_hooks.logger = dict(
        type='LoggerHook', interval=max(iters, 1), log_metric_by_epoch=False)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False, save_best=None)
    cfg.default_hooks.visualization = dict(
        type='PoseVisualizationHook', enable=False)
    if isinstance(cfg.get('visualizer'), dict):
        # mmengine keeps one visualizer per name: a name of its own per job,
        # or every job's scalars land in the first job's work dir
        cfg.visualizer.name = f'compare_training:{work_dir}:{time.time_ns()}'
    if batch_size is not None:
        cfg.train_dataloader.batch_size = batch_size
    drop_pretrained(cfg.model)
    return cfg


def _release_freed_memory() -> None:
    """Hand memory freed by earlier jobs back to the OS (glibc keeps it in
    its arenas), so that the next job's RSS growth is its own peak rather
    than what the allocator could not reuse."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss_hwm_reset() -> Optional[int]:
    """Reset the peak RSS (``VmHWM``) to the current RSS; return that RSS in
    bytes, or None where ``/proc`` cannot do it."""
    _release_freed_memory()
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        with open('/proc/self/status') as f:
            rss_kb = re.search(r'VmRSS:\s+(\d+)', f.read()).group(1)
        return int(rss_kb) * 1024
    except OSError:
        return None


def _rss_hwm() -> int:
    with open('/proc/self/status') as f:
        return int(re.search(r'VmHWM:\s+(\d+)', f.read()).group(1)) * 1024


class ComparisonHook(Hook):
    """Records one job: the validation metrics before the first and after
    the last iteration, the loss and wall time of every iteration, and the
    peak memory; advances the shared progress bar."""

    priority = 'LOWEST'

    def __init__(self, progress: Optional[ProgressBar] = None):
        self.progress = progress
        self.metrics: List[dict] = []
        self.losses: List[float] = []
        self.iter_times: List[float] = []
        self.peak_bytes: Optional[int] = None

    def before_train(self, runner) -> None:
        self._cuda = next(runner.model.parameters()).is_cuda
        if self._cuda:
            torch.cuda.reset_peak_memory_stats()
            self._mem0 = torch.cuda.memory_allocated()
        else:
            self._mem0 = _rss_hwm_reset()
        # the metric at initialisation (the train loop validates only
        # after iterations)
        runner.val_loop.run()
        self._last = time.perf_counter()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics.append(dict(metrics or {}))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        now = time.perf_counter()
        self.iter_times.append(now - self._last)
        self._last = now
        self.losses.append(float(outputs['loss'].detach()))
        if self.progress is not None:
            self.progress.update()

    def after_train(self, runner) -> None:
        if self._cuda:
            self.peak_bytes = torch.cuda.max_memory_allocated() - self._mem0
        elif self._mem0 is not None:
            self.peak_bytes = _rss_hwm() - self._mem0


def _unwrap(model):
    return getattr(model, 'module', model)


def run_job(cfg: Config,
            iters: int,
            seed: int,
            work_dir: str,
            batch_size: Optional[int] = None,
            device: Optional[str] = None,
            progress: Optional[ProgressBar] = None,
            picture: Optional[str] = None,
            title: str = '') -> dict:
    """Train one config for one seed; returns its record (metrics before
    and after, losses, seconds per iteration, peak memory)."""
    from mmengine.runner import Runner

    cfg = job_config(cfg, iters, seed, work_dir, batch_size)
    if device == 'cpu':
        # mmengine puts the model on CUDA whenever CUDA is available
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    runner = Runner.from_cfg(cfg)
    hook = ComparisonHook(progress)
    runner.register_hook(hook)
    runner.train()
    if len(hook.metrics) < 2:
        raise RuntimeError(f'{cfg.filename}: expected a validation before '
                           f'and after training, got {len(hook.metrics)}')
    record = dict(
        seed=seed,
        metrics_before=hook.metrics[0],
        metrics_after=hook.metrics[-1],
        loss_first=hook.losses[0],
        loss_last=hook.losses[-1],
        s_per_iter=float(np.median(hook.iter_times)),
        peak_mb=None if hook.peak_bytes is None else hook.peak_bytes / 2**20)
    if picture:
        from mmpose_attn.tools.analysis.training_pictures import \
            draw_training_picture
        import mmcv

        model = _unwrap(runner.model).eval()
        dataset = runner.val_dataloader.dataset
        model.cfg = cfg
        model.dataset_meta = dataset.metainfo
        info = dataset.get_data_info(0)
        mmcv.imwrite(
            draw_training_picture(model, info['img_path'], info, title),
            picture)
        record['picture'] = picture
    return record


def _name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def _mean_std(values: Sequence[float]) -> tuple:
    arr = np.asarray(values, np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.


def summarise(config: str, cfg: Config, records: List[dict],
              metric: Optional[str]) -> dict:
    """Mean and spread over seeds of one config's records."""
    key = _metric_key(cfg, records[0]['metrics_after'], metric)
    before = [r['metrics_before'][key] for r in records]
    after = [r['metrics_after'][key] for r in records]
    peaks = [r['peak_mb'] for r in records if r['peak_mb'] is not None]
    return dict(
        config=config,
        metric=key,
        before=_mean_std(before),
        after=_mean_std(after),
        gain=_mean_std([a - b for a, b in zip(after, before)]),
        s_per_iter=float(np.median([r['s_per_iter'] for r in records])),
        peak_mb=max(peaks) if peaks else None,
        seeds=len(records),
        records=records)


def _gains_by_seed(row: dict) -> Dict[int, float]:
    key = row['metric']
    return {
        r['seed']: r['metrics_after'][key] - r['metrics_before'][key]
        for r in row['records']
    }


def add_paired_differences(rows: List[dict]) -> List[dict]:
    """Compare every row's gain with the first row's, seed by seed.

    A seed gives every config the same sample order, so the per-seed
    difference of gains removes the order's share of the seed-to-seed
    spread. Adds ``gain_vs_first`` (mean, std of the differences over the
    shared seeds) and ``seeds_not_below_first`` (in how many of them the
    gain is at least the first row's) to every row after the first with the
    same metric; ``None`` otherwise.
    """
    first = _gains_by_seed(rows[0])
    for i, row in enumerate(rows):
        row['gain_vs_first'] = row['seeds_not_below_first'] = None
        if i == 0 or row['metric'] != rows[0]['metric']:
            continue
        gains = _gains_by_seed(row)
        seeds = sorted(set(gains) & set(first))
        if not seeds:
            continue
        diffs = [gains[s] - first[s] for s in seeds]
        row['gain_vs_first'] = _mean_std(diffs)
        # equal gains (PCK counts the same joints) may differ by rounding
        row['seeds_not_below_first'] = (int(sum(d >= -1e-9 for d in diffs)),
                                        len(seeds))
    return rows


def _fmt(mean_std: tuple) -> str:
    mean, std = mean_std
    digits = 3 if abs(mean) < 2 else 2
    mean = round(mean, digits) or 0.  # no '-0.000'
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def format_table(rows: List[dict], iters: int, overfit: bool) -> str:
    """The comparison as a markdown table."""
    data = ('the five MPII samples, PCK@0.2 (bbox)' if overfit else
            "each config's validation set and metric")
    lines = [
        f'{iters} iterations, {rows[0]["seeds"]} seed(s) (mean ± std '
        f'over seeds), {data}', '',
        '| config | metric | before | after | gain | gain - first row\'s '
        '(paired by seed; seeds not below) | s/iter | peak memory (MB) |',
        '| --- | --- | --: | --: | --: | --: | --: | --: |'
    ]
    for row in rows:
        peak = '-' if row['peak_mb'] is None else f'{row["peak_mb"]:.0f}'
        paired = '-'
        if row.get('gain_vs_first') is not None:
            at_least, shared = row['seeds_not_below_first']
            paired = f'{_fmt(row["gain_vs_first"])} ({at_least}/{shared})'
        lines.append(f'| {_name(row["config"])} | {row["metric"]} | '
                     f'{_fmt(row["before"])} | {_fmt(row["after"])} | '
                     f'{_fmt(row["gain"])} | {paired} | '
                     f'{row["s_per_iter"]:.3f} | {peak} |')
    return '\n'.join(lines)


def compare(configs: Sequence[str],
            iters: int,
            seeds: int = 1,
            out: str = 'work_dirs/compare_training',
            cfg_options: Optional[dict] = None,
            overfit: bool = False,
            batch_size: Optional[int] = None,
            metric: Optional[str] = None,
            device: Optional[str] = None,
            pictures: bool = True,
            progress: bool = True) -> List[dict]:
    """Train every config for ``iters`` iterations with seeds ``0..seeds-1``
    and write ``results.md`` / ``results.json`` (and pictures) to ``out``.

    Returns:
        list[dict]: One summary per config (see :func:`summarise`).
    """
    if iters < 1 or seeds < 1:
        raise ValueError(f'--iters and --seeds must be >= 1, got {iters} '
                         f'and {seeds}')
    names = [_name(c) for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f'config names must differ, got {names}')
    cfgs = []
    for config in configs:
        cfg = load_config(config, cfg_options)
        cfgs.append(overfit_config(cfg) if overfit else cfg)
    os.makedirs(out, exist_ok=True)
    bar = ProgressBar(len(configs) * seeds * iters) if progress else None
    rows = []
    for config, name, cfg in zip(configs, names, cfgs):
        records = []
        for seed in range(seeds):
            picture = (osp.join(out, f'{name}.png')
                       if pictures and seed == 0 else None)
            records.append(
                run_job(
                    cfg,
                    iters,
                    seed,
                    osp.join(out, name, f'seed{seed}'),
                    batch_size=batch_size,
                    device=device,
                    progress=bar,
                    picture=picture,
                    title=f'{name}, {iters} iterations'))
        rows.append(summarise(config, cfg, records, metric))
    add_paired_differences(rows)
    table = format_table(rows, iters, overfit)
    with open(osp.join(out, 'results.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(out, 'results.json'), 'w') as f:
        json.dump(
            dict(iters=iters, seeds=seeds, overfit=overfit, rows=rows),
            f,
            indent=2,
            default=str)
    if progress:
        print()
    print(table)
    return rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train configs side by side from the same seeds on the '
        'same data and compare the metric before -> after.')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument(
        '--iters', type=int, required=True, help='training iterations')
    parser.add_argument(
        '--seeds', type=int, default=1, help='seeds 0..S-1 (default 1)')
    parser.add_argument(
        '--batch-size', type=int, help='override the training batch size')
    parser.add_argument(
        '--out', default='work_dirs/compare_training', help='output folder')
    parser.add_argument(
        '--overfit',
        action='store_true',
        help='train and evaluate on the five real MPII samples (batch 5, '
        'PCK@0.2 of the bbox)')
    parser.add_argument(
        '--metric', help="metric key to compare (default: the config's "
        'save_best, else the first one)')
    parser.add_argument(
        '--device', choices=('cpu', 'cuda'), help='default: cuda if '
        'available')
    parser.add_argument(
        '--no-pictures', action='store_true', help='skip the pictures')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of every config, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    return compare(
        args.configs,
        args.iters,
        seeds=args.seeds,
        out=args.out,
        cfg_options=args.cfg_options,
        overfit=args.overfit,
        batch_size=args.batch_size,
        metric=args.metric,
        device=args.device,
        pictures=not args.no_pictures)


if __name__ == '__main__':
    main()
