"""mmpose_attn: SPCNet, SADI-Net, SG-HRNet and SAMKR for MMPose 1.x.

Importing the package registers every module into MMPose's registries
(``mmpose.registry``), so configs keep ``default_scope='mmpose'`` and load it
with ``custom_imports = dict(imports=['mmpose_attn'],
allow_failed_imports=False)``.
"""
from .utils import allow_mmengine_checkpoints
from .version import __version__

allow_mmengine_checkpoints()

from . import codecs, datasets, engine, evaluation, models, visualization  # noqa: E402,F401,E501

__all__ = ['__version__']
