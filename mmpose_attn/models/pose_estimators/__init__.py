# Each import registers its module into mmpose.registry.
from .multiscale_topdown import MultiScaleTopdownPoseEstimator  # noqa: F401
