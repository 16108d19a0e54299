# Each import registers its module into mmpose.registry.
from .segmentation_heatmap import SegmentationHeatmap  # noqa: F401
