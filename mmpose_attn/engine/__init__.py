# Each import registers its classes into mmpose.registry; nothing else.
from . import hooks  # noqa: F401
from .model_wrappers import AnyDeviceDistributedDataParallel  # noqa: F401
from .runner import PoseAttnRunner  # noqa: F401
