"""Refuse a checkpoint of another architecture before loading it.

mmengine loads ``load_from`` and ``init_model`` checkpoints with
``strict=False``: a checkpoint of another model only logs missing keys and
the run goes on from random weights. This package's loading code
(:class:`~mmpose_attn.engine.PoseAttnRunner`,
:func:`mmpose_attn.engine.loading.load_checkpoint` used by the tools,
:class:`~mmpose_attn.engine.hooks.CheckpointCompatibilityHook`)
compares names and shapes first and raises an error naming the file.
"""
from typing import Any, Dict, List, Tuple

import torch
from mmengine.model import BaseTTAModel, is_model_wrapper
from torch import nn

from .checkpoint import CheckpointFileError, state_dict_of

# Fine-tuning from a model with another head keeps most weights; another
# architecture's checkpoint keeps almost none.
MIN_MATCH_RATIO = 0.5


def compare_state_dicts(model_state: Dict[str, torch.Tensor],
                        ckpt_state: Dict[str, torch.Tensor]
                        ) -> Tuple[List[str], List[str], List[str],
                                   List[str]]:
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


def check_fits(model_state: Dict[str, torch.Tensor],
               ckpt_state: Dict[str, torch.Tensor],
               filename: str,
               min_match_ratio: float = MIN_MATCH_RATIO) -> None:
    """Raise when fewer than ``min_match_ratio`` of the model's parameters
    and buffers are found in the checkpoint with the same name and shape.

    Args:
        model_state (dict): The model's ``state_dict()``.
        ckpt_state (dict): The checkpoint's tensors (``module.`` stripped).
        filename (str): Named in the error.
        min_match_ratio (float): Least matching fraction. Defaults to 0.5.

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


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP/TTA wrapper (mmengine's convention)."""
    return model.module if is_model_wrapper(model) or isinstance(
        model, BaseTTAModel) else model


def check_checkpoint_fits(model: nn.Module,
                          checkpoint: Dict[str, Any],
                          filename: str,
                          min_match_ratio: float = MIN_MATCH_RATIO) -> None:
    """:func:`check_fits` for a loaded checkpoint and a (wrapped) model.

    Raises:
        CheckpointFileError: The checkpoint holds no tensors.
        RuntimeError: It belongs to another architecture.
    """
    ckpt_state = state_dict_of(checkpoint)
    if ckpt_state is None:
        raise CheckpointFileError(f'{filename}: not a model checkpoint (no '
                                  'state_dict of tensors inside)')
    check_fits(unwrap(model).state_dict(), ckpt_state, filename,
               min_match_ratio)

