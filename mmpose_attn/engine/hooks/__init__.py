# Each import registers its module into mmpose.registry.
from .checkpoint_compatibility import CheckpointCompatibilityHook  # noqa: F401
from .weights_only_checkpoint import WeightsOnlyCheckpointHook  # noqa: F401
from .data_check import DataCheckHook  # noqa: F401
