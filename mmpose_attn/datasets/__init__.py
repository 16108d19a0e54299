# Each import registers its module into mmpose.registry.
from .lsp import LspDataset  # noqa: F401
from .flic import FlicDataset  # noqa: F401
from .toy_pose import ToyPoseDataset  # noqa: F401
