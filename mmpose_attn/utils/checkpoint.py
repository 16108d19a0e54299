"""Let ``torch.load(weights_only=True)`` (the default since torch 2.6) read
the checkpoints mmengine 0.10.7 writes.

mmengine calls ``torch.load`` without ``weights_only``; its checkpoints hold
the message hub's ``HistoryBuffer`` and numpy arrays/scalars, which the
weights-only unpickler refuses (``Unsupported global: mmengine.logging.
history_buffer.HistoryBuffer``), so ``resume`` and ``load_from`` break.
Rather than turning weights-only loading off, we allow exactly the globals
mmengine's own checkpoints contain: the ``safe_globals`` host change
(``mmpose_attn.utils.host_changes``), applied by ``import mmpose_attn`` unless
``MMPOSE_ATTN_SAFE_GLOBALS=0``.
"""
import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def mmengine_checkpoint_globals() -> list:
    """The globals found in an mmengine training checkpoint (listed by
    ``torch.serialization.get_unsafe_globals_in_checkpoint``): numpy
    pickles dtypes through ``getattr`` on ``numpy.dtypes`` classes."""
    dtype_classes = [
        getattr(np.dtypes, name) for name in dir(np.dtypes)
        if name.endswith('DType')
    ]
    return [
        HistoryBuffer, np.ndarray, np.dtype, np._core.multiarray._reconstruct,
        np._core.multiarray.scalar, getattr, *dtype_classes
    ]


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_checkpoint_globals` as safe for
    ``torch.load``. Idempotent."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())


def disallow_mmengine_checkpoints() -> None:
    """Remove exactly :func:`mmengine_checkpoint_globals` from torch's safe
    globals, keeping any others registered. Idempotent."""
    ours = mmengine_checkpoint_globals()
    keep = [
        g for g in torch.serialization.get_safe_globals()
        if not any(g is o for o in ours)
    ]
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(keep)
