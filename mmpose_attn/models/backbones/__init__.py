# Each import registers its module into mmpose.registry.
from .dilated_hourglass import DilatedHourglassNet  # noqa: F401
from .sg_hrnet import SGHRNet, SegmentationGuidedModule  # noqa: F401
from .rfm_hourglass import RFMHourglassNet, ReceptiveFortifiedModule  # noqa: F401
