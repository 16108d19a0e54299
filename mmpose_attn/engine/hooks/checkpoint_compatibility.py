"""Check the checkpoint a run will load before it is loaded: a file that is
not a checkpoint, or a checkpoint of another architecture, is an error that
names the file."""
from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint

from mmpose.registry import HOOKS
from mmpose_attn.engine.checkpoint import load_checkpoint_file
from mmpose_attn.engine.checkpoint_fit import (MIN_MATCH_RATIO,
                                               check_checkpoint_fits,
                                               check_fits,
                                               compare_state_dicts)

__all__ = ['CheckpointCompatibilityHook', 'compare_state_dicts']


@HOOKS.register_module()
class CheckpointCompatibilityHook(Hook):
    """Read the file ``load_or_resume`` will load (``load_from``, or the
    latest checkpoint for ``resume=True``) with this package's loader and
    compare it with the model, before anything is loaded (``before_run``
    precedes ``load_or_resume`` in both ``Runner.train`` and
    ``Runner.test``).

    It makes a stock mmengine ``Runner`` (MMPose's ``tools/train.py``) fail
    early with a clear message; :class:`~mmpose_attn.engine.PoseAttnRunner`
    makes the same checks while loading, so the hook does nothing there.

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
        from mmpose_attn.engine.runner import PoseAttnRunner
        if isinstance(runner, PoseAttnRunner):
            return  # checked while loading, without reading the file twice
        filename = runner._load_from
        if runner._resume and filename is None:
            filename = find_latest_checkpoint(runner.work_dir)
        if not filename:
            return
        checkpoint = load_checkpoint_file(filename, map_location='cpu')
        check_checkpoint_fits(runner.model, checkpoint, filename,
                              self.min_match_ratio)

    def check(self, model_state, ckpt_state, filename: str) -> None:
        check_fits(model_state, ckpt_state, filename, self.min_match_ratio)
