"""The measuring core of :mod:`benchmark`, :mod:`compare_training` and the
GPU acceptance check (``tools/gpu_check`` of the repository): what is
measured (a config, its input size, its model built offline), synchronised
wall-clock timing of steps run interleaved, medians, and peak memory.

Peak memory is the growth over a region (:class:`PeakMemory`): on CUDA that
of ``torch.cuda.max_memory_allocated`` over what was allocated at its start;
on the CPU that of the process's peak resident set (``VmHWM``, reset to the
current RSS through ``/proc/self/clear_refs`` after freed memory is handed
back to the OS), or where ``/proc`` cannot reset it of ``ru_maxrss``, an
upper bound.
"""
import copy
import ctypes
import gc
import re
import resource
import time
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

ConfigLike = Union[str, Config]


def load_config(config: ConfigLike,
                cfg_options: Optional[dict] = None) -> Config:
    """A config from a path, a ``pkg::`` path (``mmengine.hub.get_config``,
    e.g. ``mmpose::body_2d_keypoint/...``) or a ``Config`` (copied), with
    ``cfg_options`` merged in."""
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    elif '::' in config:
        from mmengine.hub import get_config
        cfg = get_config(config)
    else:
        cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def input_hw_of(cfg: Config) -> Tuple[int, int]:
    """The network input (H, W) of a config: the ``input_size`` (w, h) of
    the head's decoder, else of ``codec``, else of a pipeline transform."""
    loaders = ('test_dataloader', 'val_dataloader', 'train_dataloader')
    candidates = [(cfg.model.get('head') or {}).get('decoder'),
                  cfg.get('codec')]
    candidates += [t for loader in loaders
                   for t in cfg.get(loader, {}).get('dataset', {}).get(
                       'pipeline', None) or []]
    for c in candidates:
        for item in c if isinstance(c, (list, tuple)) else [c]:
            size = item.get('input_size') if isinstance(item, dict) else None
            if isinstance(size, int):
                return size, size
            if isinstance(size, (list, tuple)) and len(size) == 2:
                return int(size[1]), int(size[0])
    raise ValueError(f'config {cfg.filename}: no codec or pipeline '
                     '`input_size`; pass --input-shape H W')


def parse_hw(shape: Sequence[int]) -> Tuple[int, int]:
    """``--input-shape`` as (H, W): ``H W``, or ``S`` for a square."""
    if len(shape) not in (1, 2):
        raise ValueError(f'--input-shape takes H W or S, got {list(shape)}')
    return int(shape[0]), int(shape[-1])


def drop_pretrained(cfg) -> None:
    """Remove every ``Pretrained`` ``init_cfg`` and ``pretrained`` path of
    a (nested) model config in place: models build offline, without
    weights (a SAMKR rescore net given by a local file included)."""
    items = cfg.items() if isinstance(cfg, dict) else enumerate(cfg)
    for key, value in list(items):
        if key == 'pretrained' and isinstance(value, str):
            cfg[key] = None
        elif key == 'init_cfg' and isinstance(value, dict):
            cfg[key] = None if value.get('type') == 'Pretrained' else value
        elif key == 'init_cfg' and isinstance(value, (list, tuple)):
            cfg[key] = [v for v in value
                        if v.get('type') != 'Pretrained'] or None
        elif isinstance(value, (dict, list, tuple)):
            drop_pretrained(value)


def build_model(cfg: Config, device: Union[str, torch.device] = 'cpu'
                ) -> nn.Module:
    """``cfg.model`` built by :func:`mmpose_attn.engine.loading.init_model`
    (MMPose's ``init_model``: no weights loaded or downloaded), in eval
    mode; ``cfg`` is left as it was."""
    from mmpose_attn.engine.loading import init_model
    cfg = copy.deepcopy(cfg)
    drop_pretrained(cfg.model)
    return init_model(cfg, None, device=str(device))


def sync(device: Union[str, torch.device]) -> None:
    """Wait for ``device``'s queued work (CUDA); nothing on the CPU."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def time_interleaved(steps: Sequence[Callable[[], object]],
                     iters: int,
                     warmup: int = 0,
                     device: Union[str, torch.device] = 'cpu',
                     on_round: Optional[Callable] = None
                     ) -> List[List[float]]:
    """Seconds of every call of each step, run round-robin (A, B, A, B,
    ...) so that drifts of a shared machine hit every step alike.

    Args:
        steps (Sequence[Callable]): The steps, each a call without
            arguments.
        iters (int): Timed rounds.
        warmup (int): Untimed rounds first. Defaults to 0.
        device (str | torch.device): Synchronised before and after each
            call. Defaults to ``'cpu'``.
        on_round (Callable, optional): Called as ``on_round(i, times)``
            after round ``i`` (warm-up rounds included).

    Returns:
        list[list[float]]: ``iters`` times per step.
    """
    times = [[] for _ in steps]
    for i in range(warmup + iters):
        for step, record in zip(steps, times):
            sync(device)
            start = time.perf_counter()
            step()
            sync(device)
            if i >= warmup:
                record.append(time.perf_counter() - start)
        if on_round is not None:
            on_round(i, times)
    return times


def median_iqr(times: Sequence[float]) -> Tuple[float, float]:
    """Median and inter-quartile range of ``times``."""
    q25, q50, q75 = np.percentile(times, [25, 50, 75])
    return float(q50), float(q75 - q25)


def release_freed_memory() -> None:
    """Hand memory freed earlier back to the OS (glibc keeps it in its
    arenas), so that RSS growth measures a region's own peak."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _proc_status_bytes(field: str) -> int:
    with open('/proc/self/status') as f:
        return int(re.search(rf'{field}:\s+(\d+)', f.read()).group(1)) * 1024


class PeakMemory:
    """Peak memory growth over a region (see the module doc), used as
    ``with PeakMemory(device) as peak: ...; peak.bytes`` or with
    :meth:`start` and :meth:`stop` around a longer region.

    Args:
        device (str | torch.device): ``cuda[:i]`` or ``cpu``.

    Attributes:
        bytes (int): The growth, once stopped (None before).
        method (str): How it was measured.
    """

    def __init__(self, device: Union[str, torch.device] = 'cpu'):
        self.device = torch.device(device)
        self.bytes: Optional[int] = None
        self.method = ''

    def start(self) -> 'PeakMemory':
        sync(self.device)
        if self.device.type == 'cuda':
            gc.collect()
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            self.method = 'torch.cuda.max_memory_allocated growth'
            return self
        release_freed_memory()
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')  # VmHWM := VmRSS
            self._start = _proc_status_bytes('VmRSS')
            self.method = 'VmHWM growth (clear_refs)'
        except OSError:
            self._start = resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss * 1024
            self.method = 'ru_maxrss growth (upper bound)'
        return self

    def stop(self) -> int:
        sync(self.device)
        if self.device.type == 'cuda':
            peak = torch.cuda.max_memory_allocated(self.device)
        elif self.method.startswith('VmHWM'):
            peak = _proc_status_bytes('VmHWM')
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.bytes = max(peak - self._start, 0)
        return self.bytes

    def __enter__(self) -> 'PeakMemory':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
