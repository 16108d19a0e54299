from . import hooks  # noqa: F401
from . import cpu_distributed  # noqa: F401  (CPU --launcher pytorch)
