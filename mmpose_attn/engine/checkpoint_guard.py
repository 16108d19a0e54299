"""Refuse another architecture's checkpoint wherever our models load weights:
the ``checkpoint_guard`` host change (``mmpose_attn.utils.host_changes``),
applied by ``import mmpose_attn`` unless ``MMPOSE_ATTN_CHECKPOINT_GUARD=0``.

mmengine loads ``load_from``, ``init_model(config, checkpoint)``,
``MMPoseInferencer(pose2d_weights=...)`` and ``Pretrained`` ``init_cfg``
with ``strict=False``: a checkpoint of another model only logs missing keys
and the run goes on from random weights. Every one of these paths reads the
file with mmengine's local checkpoint loader and hands the weights to
``mmengine.runner.checkpoint.load_state_dict``; wrapping those two (not a
config entry, which a user's ``custom_hooks`` would replace) makes the check
part of loading itself:

- the loader names the file in torch's errors (``Weights only load
  failed``, a truncated or non-checkpoint file) and records which file each
  loaded tensor came from;
- ``load_state_dict``, for a model that contains any mmpose_attn module,
  compares names and shapes first and raises :class:`RuntimeError` naming
  the file when fewer than :data:`MIN_MATCH_RATIO` of the model's weights
  match. Models made only of MMPose modules load as before.
"""
import functools
import pickle
import re
from typing import Dict, Optional, Tuple

import torch
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import checkpoint as mmengine_checkpoint
from torch import nn

# Fine-tuning from a model with another head keeps most weights; another
# architecture's checkpoint keeps almost none.
MIN_MATCH_RATIO = 0.5
_SOURCE = '_mmpose_attn_checkpoint_file'


def compare_state_dicts(model_state: Dict[str, torch.Tensor],
                        ckpt_state: Dict[str, torch.Tensor]) -> Tuple:
    """Split the model's keys into matched (same name and shape),
    shape-mismatched and missing, plus the checkpoint's unexpected keys."""
    matched, mismatched, missing = [], [], []
    for key, value in model_state.items():
        if key not in ckpt_state:
            missing.append(key)
        elif tuple(ckpt_state[key].shape) != tuple(value.shape):
            mismatched.append(key)
        else:
            matched.append(key)
    unexpected = [k for k in ckpt_state if k not in model_state]
    return matched, mismatched, missing, unexpected


def state_dict_of(checkpoint) -> Optional[Dict[str, torch.Tensor]]:
    """The tensors of a loaded checkpoint (``state_dict`` entry or the dict
    itself), without DDP's ``module.`` prefix, as mmengine strips it; None
    when there are none."""
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        return None
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state.items() if isinstance(v, torch.Tensor)
    }


def check_fits(model_state: Dict[str, torch.Tensor],
               ckpt_state: Dict[str, torch.Tensor],
               filename: str,
               min_match_ratio: float = MIN_MATCH_RATIO) -> None:
    """Raise when fewer than ``min_match_ratio`` of the model's parameters
    and buffers are found in the checkpoint with the same name and shape.

    Raises:
        RuntimeError: Names ``filename``, the counts and examples of
            mismatched, missing and unexpected keys.
    """
    matched, mismatched, missing, unexpected = compare_state_dicts(
        model_state, ckpt_state)
    ratio = len(matched) / max(len(model_state), 1)
    if ratio >= min_match_ratio:
        return

    def some(keys):
        shown = ', '.join(keys[:3])
        return f'{shown}, ... ({len(keys)} in all)' if len(
            keys) > 3 else shown or 'none'

    raise RuntimeError(
        f'{filename}: checkpoint does not fit this model: only '
        f'{len(matched)} of {len(model_state)} weights match by name and '
        f'shape ({ratio:.0%} < {min_match_ratio:.0%}). '
        f'Shape mismatch: {some(mismatched)}. Missing: {some(missing)}. '
        f'Unexpected: {some(unexpected)}. Was it trained with another '
        'config?')


def has_mmpose_attn_module(model: nn.Module) -> bool:
    """Whether any module of ``model`` is one of this package's classes."""
    return any(
        type(m).__module__.startswith('mmpose_attn.')
        for m in model.modules())


def source_of(state_dict: Dict[str, torch.Tensor]) -> str:
    """The file the tensors were loaded from by the guarded loader."""
    for value in state_dict.values():
        source = getattr(value, _SOURCE, None)
        if source:
            return source
    return '<state_dict not read from a local file>'


def _weights_only_reason(message: str) -> str:
    """The unpickler's own reason inside torch's long weights-only error."""
    found = re.search(
        r'WeightsUnpickler error:\s*(.+?)(?:\.\s+Please|\n\n|$)', message,
        re.S)
    return ' '.join((found.group(1) if found else message).split())


def _naming_local_loader(load_from_local):

    @functools.wraps(load_from_local)
    def wrapper(filename, map_location):
        try:
            checkpoint = load_from_local(filename, map_location)
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(
                f'{filename}: torch.load(weights_only=True) refused this '
                f'file ({_weights_only_reason(str(e))}). Not a PyTorch '
                'checkpoint, or one holding pickled objects besides '
                'weights: load it with weights_only=False only if you '
                'trust its source.') from e
        except (RuntimeError, EOFError, ValueError) as e:
            raise type(e)(f'{filename}: not a readable PyTorch checkpoint '
                          f'({e})') from e
        for value in (state_dict_of(checkpoint) or {}).values():
            setattr(value, _SOURCE, filename)
        return checkpoint

    return wrapper


def _guarded_load_state_dict(load_state_dict):

    @functools.wraps(load_state_dict)
    def wrapper(module, state_dict, strict=False, logger=None):
        model = module.module if is_model_wrapper(module) or isinstance(
            module, BaseTTAModel) else module
        if has_mmpose_attn_module(model):
            check_fits(model.state_dict(), state_dict, source_of(state_dict))
        return load_state_dict(module, state_dict, strict, logger)

    return wrapper


_ORIGINALS = {}


def install() -> None:
    """Wrap mmengine's local loader and ``load_state_dict`` (idempotent)."""
    if _ORIGINALS:
        return
    loaders = mmengine_checkpoint.CheckpointLoader._schemes
    _ORIGINALS.update(
        load_from_local=loaders[''],
        load_state_dict=mmengine_checkpoint.load_state_dict)
    loaders[''] = _naming_local_loader(_ORIGINALS['load_from_local'])
    mmengine_checkpoint.load_state_dict = _guarded_load_state_dict(
        _ORIGINALS['load_state_dict'])


def uninstall() -> None:
    """Put mmengine's own functions back (idempotent)."""
    if not _ORIGINALS:
        return
    mmengine_checkpoint.CheckpointLoader._schemes[''] = _ORIGINALS.pop(
        'load_from_local')
    mmengine_checkpoint.load_state_dict = _ORIGINALS.pop('load_state_dict')


def guard_is_installed() -> bool:
    return bool(_ORIGINALS)
