"""Train configs side by side from the same seeds on the same data, and
compare what they learned.

Usage::

    python -m mmpose_attn.tools.analysis.compare_training \\
        CONFIG [CONFIG ...] --iters N [--seeds S [S ...]] [--val-interval K] \\
        [--data-root ROOT --train-ann FILE --val-ann FILE | --overfit] \\
        [--batch-size B] [--cfg-options k=v ...] [--out DIR] \\
        [--resume | --table-only] \\
        [--metric KEY] [--device cpu|cuda]

Each ``(config, seed)`` job is a stock mmengine ``Runner`` built from the
config (its model, pipelines, optimizer and evaluator) with
``randomness.seed = seed`` for every ``seed`` of ``--seeds``, so every config
starts from the same seeds and sees the data in the same order. The run is
iteration-based (``--iters``), at the optimizer's constant learning rate (no
schedule: a comparison of a few thousand iterations would otherwise hinge on
warm-ups and milestones sized for 100+ epochs). The model is validated
before the first iteration, every ``--val-interval`` iterations and after the
last one.

**Held-out validation** (``--data-root ROOT --train-ann FILE --val-ann
FILE``, top-down configs): training on the images of ``--train-ann`` with
the config's own train pipeline (its augmentation included) and validation
on the images of ``--val-ann`` with its val pipeline, both read by the
config's validation dataset class (image paths relative to ``ROOT``), scored
by PCK@0.2 of the torso (:class:`~mmpose_attn.evaluation.TorsoPCKAccuracy`,
the LSP protocol; ``PCK`` in %). The two files must not share an image.
Make them from LSP-extended with ``python -m
mmpose_attn.tools.dataset_converters.lsp2coco --lspet-dir DIR --val-count N
--split-seed S``.

``--overfit`` (top-down configs) is the overfit check on real images:
training and evaluation on the five real MPII images shipped in
``mmpose_attn/data/mmpose_samples/mpii`` (a config with other joints, e.g.
LSP's 14, sees them through its own ``KeypointConverter`` from MPII), batch
5, the config's pipeline without its random augmentation (an overfit test
memorises the images), scored by MMPose's ``PCKAccuracy`` at 0.2 of the
person box (``PCK``, a fraction).

Otherwise each config trains and validates on its own data sets;
``--cfg-options`` applies to every config (e.g. ``train_dataloader.dataset.
data_root=...``), so the same command runs on any COCO-style data set.

The table gives each config's validation metric before training, at its
best validation and after the last iteration (mean ± std over seeds), and,
for every config after the first, the per-seed difference of its final
metric from the first config's (paired: same seed, same sample order) with
a 95% t-interval over the shared seeds and the number of seeds in which it
is not below.

Outputs in ``--out`` (default ``work_dirs/compare_training``):
``results.md`` (the table, also printed), ``results.json`` (settings and
every job's numbers: validation curve, losses, seconds per iteration, peak
memory), ``curves.png`` (validation metric against iterations, mean ± std
over seeds, one colour per config, and the training loss),
``<config>.png`` (the first seed's prediction on the first validation
image, with the paper's attention maps where it has them),
``runs/<config>/seed<S>.json`` (each finished job) and each job's mmengine
work dir. The outputs are rewritten after every finished job. With
``--resume`` a job whose ``runs/`` file exists (made with the same settings)
is not run again, so a table can grow over several sessions (more seeds,
more configs); ``--table-only`` writes the table, JSON and curves from the
runs found there and trains nothing (a table of the seeds finished so far,
while a run is still going or after one was cut). Seconds per iteration
are the median over the run (data
loading included, validation excluded); peak memory is the growth of the
process's resident set (CPU) or of the CUDA allocator's peak over the job
(:class:`~measure.PeakMemory`, the core shared with ``benchmark``).
A seed reproduces a run bit for bit at the same thread count (torch's,
set by ``OMP_NUM_THREADS``; each job's record keeps it as ``threads``);
another count reorders the CPU's floating-point sums, and the runs drift
apart over the iterations.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from mmpose_attn.data import SAMPLES_ROOT
from .measure import PeakMemory, drop_pretrained, load_config

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
        data = dict(type='MpiiDataset', data_root=samples_root,
                    data_mode='topdown', ann_file='mpii/test_mpii.json',
                    data_prefix=dict(img='mpii/'), test_mode=test_mode)
        if not converter:
            return dict(data, pipeline=pipeline)
        return dict(type='CombinedDataset', metainfo=metainfo,
                    datasets=[dict(data, pipeline=converter)],
                    pipeline=pipeline, test_mode=test_mode)

    train_pipeline = [t for t in train_set.pipeline
                      if 'Random' not in t['type']]
    loader = dict(batch_size=OVERFIT_BATCH, num_workers=0,
                  persistent_workers=False)
    cfg.train_dataloader = dict(
        loader, sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=samples(train_pipeline, False))
    cfg.val_dataloader = dict(
        loader, drop_last=False,
        sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
        dataset=samples(cfg.val_dataloader.dataset.pipeline, True))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = dict(type='PCKAccuracy', thr=0.2, norm_item='bbox')
    cfg.test_evaluator = cfg.val_evaluator
    return cfg


def _image_ids(ann_file: str) -> Dict[int, str]:
    """``{image id: file name}`` of a COCO-style annotation file."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'{ann_file}: annotation file not found')
    try:
        with open(ann_file) as f:
            images = json.load(f)['images']
        return {int(im['id']): im['file_name'] for im in images}
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f'{ann_file}: not a COCO-style annotation file '
                         f'with "images" ({type(e).__name__}: {e})')


def heldout_config(cfg: Config, data_root: str, train_ann: str,
                   val_ann: str) -> Config:
    """``cfg`` trained on ``train_ann`` and validated on ``val_ann``, both
    read by the config's validation dataset class from ``data_root``, with
    the config's own train and val pipelines, scored by
    ``TorsoPCKAccuracy(thr=0.2)``.

    A config whose training set is a ``CombinedDataset`` (LSP + MPII) keeps
    its shared pipeline and drops the other data sets.

    Raises:
        ValueError: a bottom-up config, or the two files share an image.
    """
    if cfg.get('data_mode', 'topdown') != 'topdown':
        raise ValueError(f'{cfg.filename}: held-out validation here is '
                         'top-down with ground-truth boxes; this config is '
                         f'{cfg.data_mode}')
    train_ids, val_ids = _image_ids(train_ann), _image_ids(val_ann)
    shared = sorted(set(train_ids) & set(val_ids))
    shared_files = sorted(set(train_ids.values()) & set(val_ids.values()))
    if shared or shared_files:
        raise ValueError(
            f'{val_ann} shares {len(shared)} image ids and '
            f'{len(shared_files)} images with {train_ann} (e.g. '
            f'{(shared or shared_files)[:3]}): validation must be on images '
            'the model is not trained on')
    val_set = copy.deepcopy(cfg.val_dataloader.dataset)
    if val_set.get('type') == 'CombinedDataset':
        raise ValueError(f'{cfg.filename}: the validation set is a '
                         'CombinedDataset; give a config that validates on '
                         'one data set')
    val_set.pop('bbox_file', None)  # ground-truth boxes
    val_set.update(data_root=data_root, ann_file=osp.abspath(val_ann),
                   data_prefix=dict(img=''), test_mode=True)
    cfg.train_dataloader.dataset = dict(
        copy.deepcopy(val_set), ann_file=osp.abspath(train_ann),
        pipeline=copy.deepcopy(cfg.train_dataloader.dataset.pipeline),
        test_mode=False)
    cfg.val_dataloader.dataset = val_set
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = dict(type='TorsoPCKAccuracy', thr=0.2)
    cfg.test_evaluator = cfg.val_evaluator
    return cfg


def job_config(cfg: Config, iters: int, seed: int, work_dir: str,
               batch_size: Optional[int] = None,
               val_interval: Optional[int] = None) -> Config:
    """``cfg`` as one comparison job: ``iters`` iterations at the
    optimizer's constant learning rate, validation before (see
    :class:`ComparisonHook`), every ``val_interval`` iterations and after
    training, no checkpoints, no pretrained download, quiet logs."""
    # yapf-formatting a config (the Runner logs and dumps it) takes seconds
    # on 2 cores
    cfg = Config(copy.deepcopy(cfg.to_dict()), filename=cfg.filename,
                 format_python_code=False)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    # mmengine's iteration loop sleeps 2 s whenever a finite sampler's
    # dataloader runs out (every iteration on the five overfit samples)
    shuffle = cfg.train_dataloader.get('sampler', {}).get('shuffle', True)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler',
                                        shuffle=shuffle)
    cfg.train_cfg = dict(
        by_epoch=False, max_iters=iters, val_interval=val_interval or iters)
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


class ComparisonHook(Hook):
    """Records one job: the validation metrics before the first iteration
    and at every validation (with the iteration and the validated image
    ids), the loss and wall time of every iteration, and the peak memory;
    advances the shared progress bar."""

    priority = 'LOWEST'

    def __init__(self, progress: Optional[ProgressBar] = None):
        self.progress = progress
        self.curve: List[dict] = []
        self.val_img_ids: List[List[int]] = []
        self.losses: List[float] = []
        self.iter_times: List[float] = []
        self.peak: Optional[PeakMemory] = None

    @property
    def metrics(self) -> List[dict]:
        return [point['metrics'] for point in self.curve]

    def before_train(self, runner) -> None:
        self.peak = PeakMemory(next(runner.model.parameters()).device).start()
        # the metric at initialisation (the train loop validates only
        # after iterations)
        runner.val_loop.run()
        self._last = time.perf_counter()

    def before_val_epoch(self, runner) -> None:
        self._seen: List[int] = []

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        ids = (s.metainfo.get('img_id') for s in outputs or [])
        self._seen.extend(int(i) for i in ids if i is not None)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.curve.append(dict(iter=runner.iter, metrics={
            k: float(v) for k, v in (metrics or {}).items()}))
        self.val_img_ids.append(sorted(set(self._seen)))
        # validation time is not training time
        self._last = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        now = time.perf_counter()
        self.iter_times.append(now - self._last)
        self._last = now
        self.losses.append(float(outputs['loss'].detach()))
        if self.progress is not None:
            self.progress.update()

    def after_train(self, runner) -> None:
        self.peak.stop()


def run_job(cfg: Config, iters: int, seed: int, work_dir: str,
            batch_size: Optional[int] = None, device: Optional[str] = None,
            progress: Optional[ProgressBar] = None,
            picture: Optional[str] = None, title: str = '',
            val_interval: Optional[int] = None) -> dict:
    """Train one config for one seed; returns its record (validation curve,
    metrics before and after, the image ids each validation saw, losses,
    seconds per iteration, peak memory, torch's thread count)."""
    from mmengine.runner import Runner

    cfg = job_config(cfg, iters, seed, work_dir, batch_size, val_interval)
    if device == 'cpu':
        # mmengine puts the model on CUDA whenever CUDA is available
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    runner = Runner.from_cfg(cfg)
    hook = ComparisonHook(progress)
    runner.register_hook(hook)
    runner.train()
    if len(hook.curve) < 2:
        raise RuntimeError(f'{cfg.filename}: expected a validation before '
                           f'and after training, got {len(hook.curve)}')
    record = dict(
        seed=seed, metrics_before=hook.curve[0]['metrics'],
        metrics_after=hook.curve[-1]['metrics'], curve=hook.curve,
        val_img_ids=hook.val_img_ids[0], losses=hook.losses,
        loss_first=hook.losses[0], loss_last=hook.losses[-1],
        s_per_iter=float(np.median(hook.iter_times)),
        peak_mb=hook.peak.bytes / 2**20,
        # a run is bit-identical only at the same thread count: it sets the
        # order of the CPU's floating-point sums
        threads=torch.get_num_threads())
    if picture:
        from mmpose_attn.tools.analysis.training_pictures import \
            draw_training_picture
        import mmcv

        model = getattr(runner.model, 'module', runner.model).eval()
        dataset = runner.val_dataloader.dataset
        model.cfg = cfg
        model.dataset_meta = dataset.metainfo
        info = dataset.get_data_info(0)
        mmcv.imwrite(draw_training_picture(model, info['img_path'], info,
                                           title), picture)
        record['picture'] = picture
    return record


def _name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def _mean_std(values: Sequence[float]) -> tuple:
    arr = np.asarray(values, np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple:
    """Mean and the ``level`` confidence interval of the mean of
    ``values`` (Student's t with ``n - 1`` degrees of freedom); the interval
    is ``(nan, nan)`` for fewer than two values."""
    from scipy.stats import t

    arr = np.asarray(values, np.float64)
    mean = float(arr.mean())
    if len(arr) < 2:
        return mean, (math.nan, math.nan)
    half = float(
        t.ppf(0.5 + level / 2, len(arr) - 1) * arr.std(ddof=1) /
        math.sqrt(len(arr)))
    return mean, (mean - half, mean + half)


def _best(record: dict, key: str) -> float:
    curve = record.get('curve') or [dict(metrics=record['metrics_before']),
                                     dict(metrics=record['metrics_after'])]
    return max(point['metrics'][key] for point in curve)


def summarise(config: str, cfg: Config, records: List[dict],
              metric: Optional[str]) -> dict:
    """Mean and spread over seeds of one config's records: the metric
    before training, at the best validation and after the last iteration."""
    key = _metric_key(cfg, records[0]['metrics_after'], metric)
    before = [r['metrics_before'][key] for r in records]
    after = [r['metrics_after'][key] for r in records]
    peaks = [r['peak_mb'] for r in records if r['peak_mb'] is not None]
    return dict(
        config=config, metric=key, before=_mean_std(before),
        best=_mean_std([_best(r, key) for r in records]),
        after=_mean_std(after),
        gain=_mean_std([a - b for a, b in zip(after, before)]),
        s_per_iter=float(np.median([r['s_per_iter'] for r in records])),
        peak_mb=max(peaks) if peaks else None, seeds=len(records),
        records=records)


def add_paired_differences(rows: List[dict]) -> List[dict]:
    """Compare every row's final metric with the first row's, seed by seed.

    A seed gives every config the same sample order, so the per-seed
    difference removes the order's share of the seed-to-seed spread. Adds
    ``after_vs_first`` (mean of the differences over the shared seeds and
    its 95% t-interval, see :func:`t_interval`), ``after_vs_first_seeds``
    (the shared seeds) and ``seeds_not_below_first`` (in how many of them
    the final metric is at least the first row's) to every row after the
    first with the same metric; ``None`` otherwise.
    """
    key = rows[0]['metric']
    first = {r['seed']: r['metrics_after'][key] for r in rows[0]['records']}
    for i, row in enumerate(rows):
        row['after_vs_first'] = row['seeds_not_below_first'] = None
        row['after_vs_first_seeds'] = None
        if i == 0 or row['metric'] != key:
            continue
        after = {r['seed']: r['metrics_after'][key] for r in row['records']}
        seeds = sorted(set(after) & set(first))
        if not seeds:
            continue
        diffs = [after[s] - first[s] for s in seeds]
        row['after_vs_first'] = t_interval(diffs)
        row['after_vs_first_seeds'] = seeds
        # equal metrics (PCK counts the same joints) may differ by rounding
        row['seeds_not_below_first'] = (int(sum(d >= -1e-9 for d in diffs)),
                                        len(seeds))
    return rows


def _digits(value: float) -> int:
    return 3 if abs(value) < 2 else 2


def _fmt(mean_std: tuple, digits: Optional[int] = None) -> str:
    mean, std = mean_std
    digits = _digits(mean) if digits is None else digits
    mean = round(mean, digits) or 0.  # no '-0.000'
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def _fmt_interval(mean_ci: tuple, digits: int) -> str:
    mean, (low, high) = mean_ci
    text = f'{round(mean, digits) or 0.:+.{digits}f}'
    if math.isfinite(low):
        text += f' [{low:+.{digits}f}, {high:+.{digits}f}]'
    return text


def format_table(rows: List[dict], iters: int, data: str) -> str:
    """The comparison as a markdown table; ``data`` says what the metric
    was measured on."""
    seeds = sorted({r['seed'] for row in rows for r in row['records']})
    lines = [
        f'{iters} iterations, seeds {", ".join(map(str, seeds))} (mean ± std '
        f'over seeds), {data}', '',
        '| config | metric | before | best | final | final - first row\'s '
        '(paired by seed: mean [95% t-interval]; seeds not below) | seeds | '
        's/iter | peak memory (MB) |',
        '| --- | --- | --: | --: | --: | --: | --: | --: | --: |'
    ]
    # one precision per table: 3 digits for fractions, 2 for percentages
    digits = _digits(max(abs(row[k][0]) for row in rows
                         for k in ('before', 'best', 'after')))
    for row in rows:
        peak = '-' if row['peak_mb'] is None else f'{row["peak_mb"]:.0f}'
        paired = '-'
        if row.get('after_vs_first') is not None:
            at_least, shared = row['seeds_not_below_first']
            paired = (f'{_fmt_interval(row["after_vs_first"], digits)} '
                      f'({at_least}/{shared})')
        stats = ' | '.join(_fmt(row[k], digits)
                           for k in ('before', 'best', 'after'))
        lines.append(f'| {_name(row["config"])} | {row["metric"]} | {stats} '
                     f'| {paired} | {row["seeds"]} | '
                     f'{row["s_per_iter"]:.3f} | {peak} |')
    return '\n'.join(lines)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode='valid')


def draw_curves(rows: List[dict], path: str, title: str = '') -> None:
    """Save ``path``: the validation metric against iterations (mean over
    seeds, band ± std) and the training loss (mean over seeds, moving
    average over 2% of the run), one colour per config."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # one legend under both panels: config names are long
    legend_height = 0.22 * math.ceil(len(rows) / 2)  # inches, 2 columns
    height = 4.5 + legend_height
    fig = Figure(figsize=(12, height))
    FigureCanvasAgg(fig)
    ax_val, ax_loss = fig.subplots(1, 2)
    colours = [f'C{i % 10}' for i in range(len(rows))]
    lowest_loss = np.inf
    for row, colour in zip(rows, colours):
        key, records = row['metric'], row['records']
        label = f'{_name(row["config"])} ({len(records)} seeds)'
        iters = [p['iter'] for p in records[0]['curve']]
        if all([p['iter'] for p in r['curve']] == iters for r in records):
            values = np.array([[p['metrics'][key] for p in r['curve']]
                               for r in records])
            mean, std = values.mean(0), values.std(0)
            ax_val.plot(iters, mean, color=colour, marker='.', label=label)
            ax_val.fill_between(iters, mean - std, mean + std, color=colour,
                                alpha=0.2)
        n = min(len(r['losses']) for r in records)
        if n:
            loss = np.mean([r['losses'][:n] for r in records], axis=0)
            window = max(1, n // 50)
            loss = _smooth(loss, window)
            lowest_loss = min(lowest_loss, loss.min())
            ax_loss.plot(np.arange(n)[window - 1:] + 1, loss, color=colour,
                         label=label)
    ax_val.set(xlabel='iteration', ylabel=f'validation {rows[0]["metric"]}',
               title=title or 'validation (mean ± std over seeds)')
    ax_loss.set(xlabel='iteration', ylabel='training loss',
                title='training loss (mean over seeds, moving average)')
    # a likelihood loss (SADI-Net's DLM) goes below 0: log, linear near 0
    if lowest_loss > 0:
        ax_loss.set_yscale('log')
    else:
        ax_loss.set_yscale('symlog', linthresh=1e-3)
    for ax in (ax_val, ax_loss):
        ax.grid(alpha=0.3)
    handles = (ax_val.get_legend_handles_labels()
               if ax_val.lines else ax_loss.get_legend_handles_labels())
    fig.legend(*handles, loc='lower center',
               ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, (legend_height + 0.1) / height, 1, 1))
    fig.savefig(path, dpi=100)


def _config_hash(cfg: Config) -> str:
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _load_run(path: str, settings: dict) -> Optional[dict]:
    """The record saved at ``path`` by an earlier run with ``settings``;
    None when there is none."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        saved = json.load(f)
    differ = sorted(k for k in set(settings) | set(saved['settings'])
                    if settings.get(k) != saved['settings'].get(k))
    if differ:
        changes = ', '.join(f'{k}: {saved["settings"].get(k)!r}, here '
                            f'{settings.get(k)!r}' for k in differ)
        raise ValueError(
            f'{path} was made with other settings ({changes}); give another '
            '--out, or delete the file to run it again')
    return saved['record']


def _seed_list(seeds: Union[int, Sequence[int]]) -> List[int]:
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f'--seeds must be distinct, got {seeds}')
    return seeds


def compare(configs: Sequence[str], iters: int,
            seeds: Union[int, Sequence[int]] = 1,
            out: str = 'work_dirs/compare_training',
            cfg_options: Optional[dict] = None, overfit: bool = False,
            batch_size: Optional[int] = None, metric: Optional[str] = None,
            device: Optional[str] = None, pictures: bool = True,
            progress: bool = True, data_root: Optional[str] = None,
            train_ann: Optional[str] = None, val_ann: Optional[str] = None,
            val_interval: Optional[int] = None,
            resume: bool = False,
            table_only: bool = False) -> List[dict]:
    """Train every config for ``iters`` iterations with each of ``seeds``
    (a list, or a count ``n`` for seeds ``0..n-1``) and write
    ``results.md``, ``results.json``, ``curves.png`` (and pictures) to
    ``out``. ``data_root``, ``train_ann`` and ``val_ann`` select held-out
    validation (see :func:`heldout_config`).

    Returns:
        list[dict]: One summary per config (see :func:`summarise`).
    """
    seeds = _seed_list(seeds)
    if iters < 1:
        raise ValueError(f'--iters must be >= 1, got {iters}')
    if val_interval is not None and not 1 <= val_interval <= iters:
        raise ValueError(f'--val-interval must be in 1..--iters ({iters}), '
                         f'got {val_interval}')
    heldout = [data_root, train_ann, val_ann]
    if any(heldout) and not all(heldout):
        raise ValueError('held-out validation needs --data-root, '
                         '--train-ann and --val-ann together')
    if all(heldout) and overfit:
        raise ValueError('--overfit trains and validates on the MPII '
                         'samples; it does not take --train-ann/--val-ann')
    names = [_name(c) for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f'config names must differ, got {names}')
    cfgs = []
    for config in configs:
        cfg = load_config(config, cfg_options)
        if overfit:
            cfg = overfit_config(cfg)
        elif all(heldout):
            cfg = heldout_config(cfg, data_root, train_ann, val_ann)
        cfgs.append(cfg)
    if overfit:
        data = 'the five MPII samples, PCK@0.2 (bbox)'
    elif all(heldout):
        data = (f'trained on {train_ann} ({len(_image_ids(train_ann))} '
                f'images), validated on {val_ann} '
                f'({len(_image_ids(val_ann))} images), PCK@0.2 (torso), %')
    else:
        data = "each config's validation set and metric"
    settings = dict(
        iters=iters, val_interval=val_interval or iters,
        batch_size=batch_size, overfit=overfit,
        data_root=data_root and osp.abspath(data_root),
        train_ann=train_ann and osp.abspath(train_ann),
        val_ann=val_ann and osp.abspath(val_ann))
    os.makedirs(out, exist_ok=True)

    records: Dict[str, List[dict]] = {name: [] for name in names}
    todo = []
    # seed by seed, so that an interrupted comparison has paired runs
    for seed in seeds:
        for config, name, cfg in zip(configs, names, cfgs):
            job = dict(settings, config_hash=_config_hash(cfg), seed=seed)
            path = osp.join(out, 'runs', name, f'seed{seed}.json')
            saved = _load_run(path, job) if resume or table_only else None
            if saved is not None:
                records[name].append(saved)
            else:
                todo.append((config, name, cfg, seed, job, path))
    if resume or table_only:
        print(f'compare_training: {len(seeds) * len(configs) - len(todo)} '
              f'of {len(seeds) * len(configs)} runs found in {out}, '
              f'{0 if table_only else len(todo)} to run')
    if table_only:
        for _, name, _, seed, _, _ in todo:
            print(f'compare_training: not in the table: {name}, seed {seed}')
        if not any(records.values()):
            raise ValueError(f'--table-only: no finished run in {out}')
        todo = []

    def write(final: bool) -> List[dict]:
        rows = [summarise(config, cfg, records[name], metric)
                for config, name, cfg in zip(configs, names, cfgs)
                if records[name]]
        if not rows:
            return rows
        add_paired_differences(rows)
        table = format_table(rows, iters, data)
        with open(osp.join(out, 'results.md'), 'w') as f:
            f.write(table + '\n')
        with open(osp.join(out, 'results.json'), 'w') as f:
            json.dump(dict(settings, seeds=seeds, configs=list(configs),
                           rows=rows, complete=final), f, indent=1,
                      default=str)
        draw_curves(rows, osp.join(out, 'curves.png'))
        if final:
            if progress:
                print()
            print(table)
        return rows

    bar = ProgressBar(len(todo) * iters) if progress and todo else None
    for config, name, cfg, seed, job, path in todo:
        picture = (osp.join(out, f'{name}.png')
                   if pictures and seed == seeds[0] else None)
        record = run_job(
            cfg, iters, seed, osp.join(out, name, f'seed{seed}'),
            batch_size=batch_size, device=device, progress=bar,
            picture=picture, title=f'{name}, {iters} iterations',
            val_interval=val_interval)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(dict(settings=job, record=record), f, default=str)
        records[name].append(record)
        records[name].sort(key=lambda r: seeds.index(r['seed']))
        write(final=False)
    return write(final=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train configs side by side from the same seeds on the '
        'same data and compare their validation metric before, at best and '
        'after training.')
    add = parser.add_argument
    add('configs', nargs='+', help='config files')
    add('--iters', type=int, required=True, help='training iterations')
    add('--seeds', type=int, nargs='+', default=[0],
        help='the seeds, the same for every config (default: 0)')
    add('--val-interval', type=int, help='validate every VAL_INTERVAL '
        'iterations (default: only after the last; always before the first)')
    add('--data-root', help='held-out validation: folder the image paths of '
        '--train-ann and --val-ann are relative to')
    add('--train-ann', help='held-out validation: training annotation file')
    add('--val-ann', help='held-out validation: validation annotation file '
        '(scored by PCK@0.2 of the torso)')
    add('--batch-size', type=int, help='override the training batch size')
    add('--out', default='work_dirs/compare_training', help='output folder')
    add('--resume', action='store_true', help='keep the runs already '
        'finished in --out (runs/*/seed*.json) and run only the others')
    add('--table-only', action='store_true', help='write the table from '
        'the runs finished in --out (runs/*/seed*.json); train nothing')
    add('--overfit', action='store_true', help='train and evaluate on the '
        'five real MPII samples (batch 5, PCK@0.2 of the bbox)')
    add('--metric', help="metric key to compare (default: the config's "
        'save_best, else the first one)')
    add('--device', choices=('cpu', 'cuda'),
        help='default: cuda if available')
    add('--no-pictures', dest='pictures', action='store_false',
        help='skip the pictures')
    add('--cfg-options', nargs='+', action=DictAction,
        help='override settings of every config, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv=None) -> List[dict]:
    return compare(**vars(parse_args(argv)))


if __name__ == '__main__':
    main()
