from . import hooks  # noqa: F401
from . import checkpoint_guard, cpu_distributed  # noqa: F401
