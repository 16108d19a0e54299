# Each import registers its module into mmpose.registry.
from .subspace_attention import SubspaceAttention  # noqa: F401
from .samkr_head import SAMKRHead  # noqa: F401
from .spcnet_head import SPCNetHead  # noqa: F401
from .sg_heatmap_head import SGHeatmapHead  # noqa: F401
from .dlm_head import DLMHead  # noqa: F401
