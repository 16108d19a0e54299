# Each import registers its module into mmpose.registry.
from .swahr_loss import WeightAdaptiveHeatmapLoss  # noqa: F401
from .dwa_loss import DWALoss  # noqa: F401
