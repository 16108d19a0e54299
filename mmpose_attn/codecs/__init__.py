# Each import registers its module into mmpose.registry.
from .segmentation_heatmap import SegmentationHeatmap  # noqa: F401
from .spr_heatmap_matching import SPRHeatmapMatching  # noqa: F401
