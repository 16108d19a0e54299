# Each import registers its module into mmpose.registry.
from .checkpoint_compatibility import CheckpointCompatibilityHook  # noqa: F401
