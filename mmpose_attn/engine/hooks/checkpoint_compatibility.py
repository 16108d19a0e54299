"""Refuse a ``load_from`` checkpoint that belongs to another architecture.

mmengine loads ``load_from`` with ``strict=False``: a checkpoint of another
model only logs a list of missing keys and the run goes on from random
weights (training) or reports chance-level metrics (testing). This hook
compares the checkpoint with the model before anything is loaded
(``before_run`` precedes ``load_or_resume`` in both ``Runner.train`` and
``Runner.test``) and stops with an error that names the file.
"""
from typing import Dict, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint

from mmpose.registry import HOOKS


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


def _state_dict_of(checkpoint) -> Optional[Dict[str, torch.Tensor]]:
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        return None
    # DDP-saved weights carry a 'module.' prefix that mmengine strips too.
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state.items() if isinstance(v, torch.Tensor)
    }


@HOOKS.register_module()
class CheckpointCompatibilityHook(Hook):
    """Check ``load_from`` against the model before it is loaded.

    Args:
        min_match_ratio (float): Least fraction of the model's parameters and
            buffers that must be found in the checkpoint with the same name
            and shape. Fine-tuning from a model with another head keeps most
            of them; a checkpoint of another architecture keeps almost none.
            Defaults to 0.5.
    """

    priority = 'VERY_HIGH'

    def __init__(self, min_match_ratio: float = 0.5):
        self.min_match_ratio = min_match_ratio

    def before_run(self, runner) -> None:
        filename = runner._load_from
        if not filename:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        checkpoint = _load_checkpoint(filename, map_location='cpu')
        ckpt_state = _state_dict_of(checkpoint)
        if ckpt_state is None:
            raise ValueError(f'{filename}: not a model checkpoint (no '
                             'state_dict of tensors inside)')
        self.check(model.state_dict(), ckpt_state, filename)

    def check(self, model_state: Dict[str, torch.Tensor],
              ckpt_state: Dict[str, torch.Tensor], filename: str) -> None:
        matched, mismatched, missing, unexpected = compare_state_dicts(
            model_state, ckpt_state)
        ratio = len(matched) / max(len(model_state), 1)
        if ratio >= self.min_match_ratio:
            return

        def some(keys):
            shown = ', '.join(keys[:3])
            return f'{shown}, ... ({len(keys)} in all)' if len(
                keys) > 3 else shown or 'none'

        raise RuntimeError(
            f'{filename}: checkpoint does not fit this model: only '
            f'{len(matched)} of {len(model_state)} weights match by name and '
            f'shape ({ratio:.0%} < {self.min_match_ratio:.0%}). '
            f'Shape mismatch: {some(mismatched)}. Missing: {some(missing)}. '
            f'Unexpected: {some(unexpected)}. Was it trained with another '
            'config?')
