"""A DDP wrapper that also wraps CPU modules, for ``--launcher pytorch`` on
machines without CUDA."""
from mmengine.model.wrappers import MMDistributedDataParallel
from torch import nn

from mmpose.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class AnyDeviceDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` and
    ``output_device`` when the module is on the CPU.

    mmengine's ``Runner.wrap_model`` always passes
    ``device_ids=[LOCAL_RANK]``, which PyTorch refuses for CPU modules
    ("device_ids ... only work with ... GPU modules"); PyTorch's DDP wants
    ``device_ids=None`` there. A module on a GPU is wrapped exactly as by
    ``MMDistributedDataParallel``. Used by
    :class:`~mmpose_attn.engine.PoseAttnRunner`, or set
    ``model_wrapper_cfg=dict(type='mmpose.AnyDeviceDistributedDataParallel')``.

    Args:
        module (nn.Module): The model.
        **kwargs: ``MMDistributedDataParallel``'s arguments.
    """

    def __init__(self, module: nn.Module, **kwargs):
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
        super().__init__(module=module, **kwargs)
