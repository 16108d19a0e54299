"""Save checkpoints that ``torch.load(weights_only=True)`` reads without an
allowlist, and read them back on resume."""
from mmengine.hooks import Hook

from mmpose.registry import HOOKS
from mmpose_attn.engine.checkpoint import from_weights_only, to_weights_only


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Store the message hub's ``HistoryBuffer`` and numpy values of a
    checkpoint as tensors and numbers
    (:func:`~mmpose_attn.engine.checkpoint.to_weights_only`), so that
    ``torch.load``, ``mmpose.apis.init_model`` and ``MMPoseInferencer`` read
    it under PyTorch's weights-only default with nothing allowed; turn them
    back after a checkpoint is loaded, before mmengine's ``resume`` reads
    them. Listed in ``configs/_base_/default_runtime.py`` and always added
    by :class:`~mmpose_attn.engine.PoseAttnRunner`.

    Priority ``LOWEST``: runs after every other hook has added its entries
    to the checkpoint (e.g. ``EMAHook``).
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        encoded = to_weights_only(checkpoint)
        checkpoint.clear()
        checkpoint.update(encoded)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        dataset = getattr(runner.train_dataloader, 'dataset', None) \
            if not isinstance(runner.train_dataloader, dict) else None
        decoded = from_weights_only(
            checkpoint, getattr(dataset, 'metainfo', None))
        checkpoint.clear()
        checkpoint.update(decoded)
