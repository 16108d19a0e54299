"""Load a checkpoint into a model the way this package's tools do:
``mmengine.runner.load_checkpoint`` and ``mmpose.apis.init_model`` with
errors that name the file (:func:`~mmpose_attn.engine.checkpoint.
load_checkpoint_file`), weights-only loading without a process-wide
allowlist, and another architecture's checkpoint refused
(:func:`~mmpose_attn.engine.checkpoint_fit.check_checkpoint_fits`)."""
from typing import Any, Dict, Optional

from mmengine.runner.checkpoint import _load_checkpoint_to_model
from torch import nn

from .checkpoint import load_checkpoint_file, restore_dataset_meta
from .checkpoint_fit import check_checkpoint_fits, unwrap


def load_checkpoint(model: nn.Module,
                    filename: str,
                    map_location: Any = 'cpu',
                    strict: bool = False,
                    revise_keys: list = [(r'^module\.', '')]
                    ) -> Dict[str, Any]:
    """``mmengine.runner.load_checkpoint`` through this package's loader.

    Args:
        model (nn.Module): Model (or DDP wrapper) to load into.
        filename (str): Checkpoint path or URL.
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.
        strict (bool): As for ``load_state_dict``. Defaults to False.
        revise_keys (list): ``(pattern, replacement)`` pairs applied to the
            keys, as in mmengine. Defaults to stripping ``module.``.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        CheckpointFileError: It is not a checkpoint (message names it).
        RuntimeError: It belongs to another architecture.
    """
    checkpoint = load_checkpoint_file(filename, map_location)
    check_checkpoint_fits(model, checkpoint, filename)
    return _load_checkpoint_to_model(
        unwrap(model), checkpoint, strict, revise_keys=revise_keys)


def init_model(config: Any,
               checkpoint: Optional[str] = None,
               device: str = 'cuda:0',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """``mmpose.apis.init_model`` with the checkpoint read by
    :func:`load_checkpoint`; ``dataset_meta`` comes, as there, from the
    checkpoint, else the config, else COCO.

    Args:
        config (str | Path | Config): The model's config.
        checkpoint (str, optional): Its weights. Defaults to None.
        device (str): Where the model goes. Defaults to ``'cuda:0'``.
        cfg_options (dict, optional): Overrides of the config.

    Returns:
        nn.Module: The model on ``device``, in eval mode.
    """
    from mmpose.apis import init_model as mmpose_init_model
    model = mmpose_init_model(config, None, 'cpu', cfg_options)
    if checkpoint is not None:
        loaded = load_checkpoint(model, checkpoint, map_location='cpu')
        saved = loaded.get('meta', {}).get('dataset_meta')
        if saved is not None:
            model.dataset_meta = restore_dataset_meta(saved,
                                                      model.dataset_meta)
    return model.to(device).eval()
