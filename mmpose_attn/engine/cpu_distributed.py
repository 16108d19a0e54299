"""Let mmengine 0.10.7's ``--launcher pytorch`` run on machines without CUDA
(``env_cfg.dist_cfg.backend=gloo``): the ``cpu_ddp`` host change
(``mmpose_attn.utils.host_changes``), applied by ``import mmpose_attn``
unless ``MMPOSE_ATTN_CPU_DDP=0``.

mmengine assumes a GPU per process: ``_init_dist_pytorch`` calls
``torch.cuda.set_device(local_rank)`` ("Found no NVIDIA driver") and
``Runner.wrap_model`` gives DDP ``device_ids=[local_rank]``, which PyTorch
rejects for CPU modules ("device_ids ... only work with ... GPU modules").
Where CUDA is unavailable we skip the ``set_device`` and wrap CPU modules with
``device_ids=None``, the form PyTorch asks for; with CUDA nothing changes.
"""
import functools

import torch
from mmengine.dist import utils as dist_utils
from mmengine.model.wrappers import MMDistributedDataParallel


def _without_cuda_set_device(init_dist_pytorch):

    @functools.wraps(init_dist_pytorch)
    def wrapper(*args, **kwargs):
        if torch.cuda.is_available():
            return init_dist_pytorch(*args, **kwargs)
        # no GPU to bind the rank to: let the CPU process group form
        set_device = torch.cuda.set_device
        torch.cuda.set_device = lambda device: None
        try:
            return init_dist_pytorch(*args, **kwargs)
        finally:
            torch.cuda.set_device = set_device

    return wrapper


def _cpu_device_ids(ddp_init):

    @functools.wraps(ddp_init)
    def wrapper(self, module, *args, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu and not torch.cuda.is_available():
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
        ddp_init(self, module, *args, **kwargs)

    return wrapper


_ORIGINALS = {}


def install() -> None:
    """Patch mmengine (idempotent)."""
    if _ORIGINALS:
        return
    _ORIGINALS.update(
        init_dist_pytorch=dist_utils._init_dist_pytorch,
        ddp_init=MMDistributedDataParallel.__init__)
    dist_utils._init_dist_pytorch = _without_cuda_set_device(
        _ORIGINALS['init_dist_pytorch'])
    MMDistributedDataParallel.__init__ = _cpu_device_ids(
        _ORIGINALS['ddp_init'])


def uninstall() -> None:
    """Put mmengine's own functions back (idempotent)."""
    if not _ORIGINALS:
        return
    dist_utils._init_dist_pytorch = _ORIGINALS.pop('init_dist_pytorch')
    MMDistributedDataParallel.__init__ = _ORIGINALS.pop('ddp_init')
