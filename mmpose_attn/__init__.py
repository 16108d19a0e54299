"""mmpose_attn: SPCNet, SADI-Net, SG-HRNet and SAMKR for MMPose 1.x.

Importing the package registers its classes into MMPose's registries
(``mmpose.registry``) and changes nothing else: no attribute of torch,
mmengine, mmcv or mmpose, nothing printed. Configs keep
``default_scope='mmpose'`` and load it with ``custom_imports =
dict(imports=['mmpose_attn'], allow_failed_imports=False)``; what our
configs add (checkpoint and data checks, CPU ``--launcher pytorch``) lives in
their runner and hooks (README, "What importing does").
"""
from .version import __version__

from . import codecs, datasets, engine, evaluation, models, visualization  # noqa: E402,F401,E501


def _name_our_classes_in_init_errors():
    from mmpose import registry

    from .utils.init_errors import name_classes_in_init_errors
    name_classes_in_init_errors(registry.MODELS, registry.DATASETS,
                                registry.KEYPOINT_CODECS, registry.METRICS,
                                registry.TRANSFORMS, registry.HOOKS)


_name_our_classes_in_init_errors()

__all__ = ['__version__']
