"""Refuse a ``load_from`` checkpoint that belongs to another architecture,
for models the load-time guard does not cover.

``mmpose_attn.engine.checkpoint_guard`` checks every load into a model that
contains an mmpose_attn module, whatever the config says. This hook, listed
in our configs' ``custom_hooks``, extends the same check to ``load_from`` of
models made only of MMPose modules (the baselines in our config folders),
before anything is loaded (``before_run`` precedes ``load_or_resume`` in
both ``Runner.train`` and ``Runner.test``).
"""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint

from mmpose.registry import HOOKS
from mmpose_attn.engine.checkpoint_guard import (MIN_MATCH_RATIO, check_fits,
                                                 compare_state_dicts,
                                                 guard_is_installed,
                                                 has_mmpose_attn_module,
                                                 state_dict_of)

__all__ = ['CheckpointCompatibilityHook', 'compare_state_dicts']


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

    def __init__(self, min_match_ratio: float = MIN_MATCH_RATIO):
        self.min_match_ratio = min_match_ratio

    def before_run(self, runner) -> None:
        filename = runner._load_from
        if not filename:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if guard_is_installed() and has_mmpose_attn_module(model):
            return  # checked while loading, without reading the file twice
        checkpoint = _load_checkpoint(filename, map_location='cpu')
        ckpt_state = state_dict_of(checkpoint)
        if ckpt_state is None:
            raise ValueError(f'{filename}: not a model checkpoint (no '
                             'state_dict of tensors inside)')
        self.check(model.state_dict(), ckpt_state, filename)

    def check(self, model_state, ckpt_state, filename: str) -> None:
        check_fits(model_state, ckpt_state, filename, self.min_match_ratio)
