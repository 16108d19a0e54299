"""Read and write checkpoints under ``torch.load(weights_only=True)`` (the
default since torch 2.6) without widening torch's allowlist for the process.

mmengine 0.10.7 pickles the message hub's ``HistoryBuffer`` and numpy
arrays/scalars into its checkpoints, which the weights-only unpickler
refuses (``Unsupported global``), so ``resume`` and ``load_from`` break.

- Checkpoints written by this package's runs hold weights-only-safe types
  only (:func:`to_weights_only`, applied by
  :class:`~mmpose_attn.engine.hooks.WeightsOnlyCheckpointHook`): anyone loads
  them with a plain ``torch.load``, ``mmpose.apis.init_model`` or
  ``MMPoseInferencer``; :func:`from_weights_only` turns them back on resume.
- Checkpoints written by a stock mmengine runner are read by
  :func:`load_checkpoint_file` inside :func:`checkpoint_globals`, a context
  manager allowing exactly the classes such checkpoints hold. The pickled
  ``HistoryBuffer`` calls ``builtins.getattr(HistoryBuffer, 'min')``; the
  name ``builtins.getattr`` is mapped to :func:`history_buffer_statistic`,
  which returns those four methods and refuses everything else. The real
  ``getattr``, ``eval``, ``exec``, ``os``, ``subprocess`` are never allowed.
- Whatever cannot be read raises :class:`CheckpointFileError` naming the
  file and what was expected.
"""
import contextlib
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Dict, Iterator, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

# Marks a value that :func:`to_weights_only` encoded; the key cannot clash
# with mmengine's own keys.
MARKER = '__mmpose_attn_encoded__'
_STATISTICS = ('min', 'max', 'current', 'mean')


class CheckpointFileError(ValueError):
    """A file given as a checkpoint is not one (its message names it)."""


def history_buffer_statistic(owner: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` while unpickling: mmengine's
    ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'min')``. Returns exactly those methods.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    allowed = set(_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) refused: a checkpoint may only look '
        f'up the statistics methods of HistoryBuffer ({sorted(allowed)})')


def mmengine_checkpoint_globals() -> list:
    """The globals of a stock mmengine training checkpoint (listed by
    ``torch.serialization.get_unsafe_globals_in_checkpoint``), for
    ``torch.serialization.safe_globals``: classes and numpy's array
    reconstructors, and ``builtins.getattr`` mapped to
    :func:`history_buffer_statistic`."""
    dtype_classes = [
        getattr(np.dtypes, name) for name in dir(np.dtypes)
        if name.endswith('DType')
    ]
    return [
        HistoryBuffer, np.ndarray, np.dtype, np._core.multiarray._reconstruct,
        np._core.multiarray.scalar, *dtype_classes,
        (history_buffer_statistic, 'builtins.getattr')
    ]


@contextlib.contextmanager
def checkpoint_globals() -> Iterator[None]:
    """Allow :func:`mmengine_checkpoint_globals` in ``torch.load`` inside the
    ``with`` block only (``torch.serialization.safe_globals``)."""
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        yield


# ---------------------------------------------------------------- encoding


def _same_dict(original: dict, items: dict) -> dict:
    return OrderedDict(items) if isinstance(original, OrderedDict) else items


def _encode(value: Any) -> Any:
    if isinstance(value, HistoryBuffer):
        return {
            MARKER: 'HistoryBuffer',
            'log_history': _encode(value._log_history),
            'count_history': _encode(value._count_history),
            'max_length': int(value.max_length)
        }
    if isinstance(value, np.ndarray) and value.dtype.kind in 'biuf':
        return {
            MARKER: 'ndarray',
            'data': torch.from_numpy(np.ascontiguousarray(value).copy())
        }
    if isinstance(value, np.generic) and value.dtype.kind in 'biuf':
        return {
            MARKER: 'scalar',
            'dtype': value.dtype.str,
            'value': value.item()
        }
    if isinstance(value, dict):
        return _same_dict(value, {k: _encode(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_encode(v) for v in value)
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        kind = value.get(MARKER)
        if kind == 'HistoryBuffer':
            return HistoryBuffer(
                _decode(value['log_history']),
                _decode(value['count_history']), value['max_length'])
        if kind == 'ndarray':
            return value['data'].numpy()
        if kind == 'scalar':
            return np.dtype(value['dtype']).type(value['value'])
        return _same_dict(value, {k: _decode(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_decode(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    """numpy values as Python lists/numbers, containers rebuilt."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_plain(v) for v in value)
    return value


def to_weights_only(checkpoint: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of an mmengine checkpoint that ``torch.load(weights_only=True)``
    reads without an allowlist (tensors are shared, not copied).

    ``meta['dataset_meta']`` gets Python lists for numpy arrays, which is
    what ``mmpose.apis.init_model`` hands to the model and visualizer;
    elsewhere (message hub, optimizer, schedulers) ``HistoryBuffer`` and
    numeric numpy values become marked dicts of tensors and numbers, turned
    back exactly by :func:`from_weights_only`.
    """
    encoded = {k: v if k == 'state_dict' else _encode(v)
               for k, v in checkpoint.items()}
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and 'dataset_meta' in meta:
        encoded['meta'] = dict(encoded['meta'])
        encoded['meta']['dataset_meta'] = _plain(meta['dataset_meta'])
    return encoded


def from_weights_only(checkpoint: Dict[str, Any],
                      dataset_meta: Optional[dict] = None) -> Dict[str, Any]:
    """Undo :func:`to_weights_only` (a checkpoint without its marks comes
    back equal).

    Args:
        checkpoint (dict): As loaded.
        dataset_meta (dict, optional): The running dataset's metainfo: used
            in place of ``meta['dataset_meta']`` when equal to it as plain
            lists, so that mmengine's resume compares equal metainfo as
            equal.
    """
    decoded = {k: v if k == 'state_dict' else _decode(v)
               for k, v in checkpoint.items()}
    meta = decoded.get('meta')
    if isinstance(meta, dict) and 'dataset_meta' in meta:
        meta['dataset_meta'] = restore_dataset_meta(meta['dataset_meta'],
                                                    dataset_meta)
    return decoded


def restore_dataset_meta(saved: Any, current: Optional[dict]) -> Any:
    """``current`` (with its numpy arrays) when ``saved`` is its plain-list
    form from :func:`to_weights_only`, else ``saved``."""
    if current is not None and saved is not None and \
            _plain(saved) == _plain(current):
        return current
    return saved


# ------------------------------------------------------------------ reading

_EXPECTED = ('expected a PyTorch checkpoint written by torch.save or '
             "mmengine's save_checkpoint (e.g. work_dirs/CONFIG/epoch_N.pth)")


def _weights_only_reason(message: str) -> str:
    """The unpickler's own reason inside torch's long weights-only error."""
    found = re.search(
        r'WeightsUnpickler error:\s*(.+?)(?:\.\s+Please|\n\n|$)', message,
        re.S)
    return ' '.join((found.group(1) if found else message).split())


def state_dict_of(checkpoint: Any) -> Optional[Dict[str, torch.Tensor]]:
    """The tensors of a loaded checkpoint (its ``state_dict`` entry, or the
    dict itself), without DDP's ``module.`` prefix; None when there are
    none."""
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        return None
    tensors = {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state.items() if isinstance(v, torch.Tensor)
    }
    return tensors or None


def load_checkpoint_file(filename: str,
                         map_location: Any = 'cpu') -> Dict[str, Any]:
    """Load a checkpoint with ``torch.load(weights_only=True)``: this
    package's checkpoints as they are, stock mmengine ones inside
    :func:`checkpoint_globals`; marked values are decoded.

    Args:
        filename (str): Local path or any URL mmengine's ``CheckpointLoader``
            reads.
        map_location: As for ``torch.load``.

    Returns:
        dict: The checkpoint.

    Raises:
        FileNotFoundError: A local ``filename`` does not exist.
        CheckpointFileError: The file is not a checkpoint holding a dict of
            tensors, or holds objects the weights-only unpickler refuses.
    """
    local = '://' not in str(filename)
    if local and not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        with checkpoint_globals():
            checkpoint = _load_checkpoint(filename, map_location=map_location)
    except pickle.UnpicklingError as e:
        raise CheckpointFileError(
            f'{filename}: torch.load(weights_only=True) refused this file '
            f'({_weights_only_reason(str(e))}); {_EXPECTED}, holding '
            'tensors, numbers and strings (and the numpy arrays and '
            'HistoryBuffer of mmengine training state). Load it with '
            'weights_only=False only if you trust its source.') from e
    except Exception as e:  # noqa: B902  (torch raises many kinds)
        if not local:
            raise
        raise CheckpointFileError(
            f'{filename}: not a readable checkpoint '
            f'({type(e).__name__}: {e}); {_EXPECTED}') from e
    if state_dict_of(checkpoint) is None:
        raise CheckpointFileError(
            f'{filename}: holds a {type(checkpoint).__name__} without '
            f'tensors; {_EXPECTED}, a dict with a state_dict of tensors')
    return from_weights_only(checkpoint)
