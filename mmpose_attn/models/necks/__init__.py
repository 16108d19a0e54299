# Each import registers its module into mmpose.registry.
from .selective_information import SelectiveInformationModule  # noqa: F401
from .spatial_fusion import SpatialFusionModule  # noqa: F401
