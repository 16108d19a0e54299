from .checkpoint import (allow_mmengine_checkpoints,
                         disallow_mmengine_checkpoints)
from .host_changes import (apply_host_changes, host_changes,
                           register_host_change, undo_host_changes)

__all__ = [
    'allow_mmengine_checkpoints', 'disallow_mmengine_checkpoints',
    'apply_host_changes', 'host_changes', 'register_host_change',
    'undo_host_changes'
]
