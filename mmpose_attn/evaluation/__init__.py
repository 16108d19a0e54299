# Each import registers its module into mmpose.registry.
from .torso_pck import TorsoPCKAccuracy  # noqa: F401
