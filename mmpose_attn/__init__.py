"""mmpose_attn: SPCNet, SADI-Net, SG-HRNet and SAMKR for MMPose 1.x.

Importing the package registers every module into MMPose's registries
(``mmpose.registry``), so configs keep ``default_scope='mmpose'`` and load it
with ``custom_imports = dict(imports=['mmpose_attn'],
allow_failed_imports=False)``.

It also applies four documented changes to the host libraries, each logged
once and each switched off by its environment variable or
:func:`undo_host_changes` (README, "Host-library changes"):
``data_checks``, ``checkpoint_guard``, ``cpu_ddp`` and ``safe_globals``.
"""
from .utils import (allow_mmengine_checkpoints, apply_host_changes,
                    disallow_mmengine_checkpoints, host_changes,
                    register_host_change, undo_host_changes)
from .version import __version__

from . import codecs, datasets, engine, evaluation, models, visualization  # noqa: E402,F401,E501
from .datasets import validation  # noqa: E402
from .engine import checkpoint_guard, cpu_distributed  # noqa: E402

register_host_change(
    'data_checks', 'MMPOSE_ATTN_DATA_CHECKS',
    "wrapped MMPose's BaseCocoStyleDataset.load_data_list/filter_data and "
    'LoadImage.transform: bad data raises errors naming the file',
    validation.install, validation.uninstall)
register_host_change(
    'checkpoint_guard', 'MMPOSE_ATTN_CHECKPOINT_GUARD',
    "wrapped mmengine's local checkpoint loader and load_state_dict: errors "
    "name the file, another architecture's checkpoint is refused for "
    'mmpose_attn models', checkpoint_guard.install, checkpoint_guard.uninstall)
register_host_change(
    'cpu_ddp', 'MMPOSE_ATTN_CPU_DDP',
    "wrapped mmengine's _init_dist_pytorch and MMDistributedDataParallel: "
    '--launcher pytorch works without CUDA (gloo)', cpu_distributed.install,
    cpu_distributed.uninstall)
register_host_change(
    'safe_globals', 'MMPOSE_ATTN_SAFE_GLOBALS',
    "added mmengine's checkpoint globals to torch's weights-only safe list: "
    'resume and load_from work with weights_only=True',
    allow_mmengine_checkpoints, disallow_mmengine_checkpoints)
apply_host_changes()


def _name_our_classes_in_init_errors():
    from mmpose import registry

    from .utils.init_errors import name_classes_in_init_errors
    name_classes_in_init_errors(registry.MODELS, registry.DATASETS,
                                registry.KEYPOINT_CODECS, registry.METRICS,
                                registry.TRANSFORMS, registry.HOOKS)


_name_our_classes_in_init_errors()

__all__ = ['__version__', 'host_changes', 'undo_host_changes']
