# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Deformable convolution (DEKR's and SAMKR's adaptive convolution) on any
device torchvision supports.

mmcv's :class:`~mmcv.ops.DeformConv2d` only runs where mmcv's ops were
compiled for the tensor's device (this project builds them for the CPU only,
so not on a GPU). ``torchvision.ops.deform_conv2d`` ships CPU and CUDA
kernels in the torchvision wheel and uses the same offset layout
(``[y0, x0, y1, x1, ...]`` per deformable group) and the same bilinear
sampling (zero outside the image), so the two agree to float rounding.
"""
from functools import lru_cache

from mmcv.ops import DeformConv2d as MMCVDeformConv2d
from torch import Tensor
from torchvision.ops import deform_conv2d as tv_deform_conv2d

from .precision import float32_under_autocast

BACKENDS = ('auto', 'mmcv', 'torchvision')


@lru_cache(maxsize=None)
def mmcv_deform_conv_devices() -> frozenset:
    """Device types for which mmcv's compiled ``deform_conv`` has kernels:
    always the CPU (mmcv's ops import only when compiled), CUDA only when
    mmcv was compiled with it."""
    from mmcv.ops import get_compiling_cuda_version
    devices = {'cpu'}
    if get_compiling_cuda_version() != 'not available':
        devices.add('cuda')
    return frozenset(devices)


def _torchvision_deform_conv(x: Tensor, offset: Tensor, weight: Tensor,
                             stride, padding, dilation) -> Tensor:
    return tv_deform_conv2d(
        x,
        offset,
        weight,
        stride=stride,
        padding=padding,
        dilation=dilation)


class DeformConv2d(MMCVDeformConv2d):
    """mmcv's :class:`~mmcv.ops.DeformConv2d` (same arguments, parameters,
    initialisation and state dict, so MMPose DEKR checkpoints load
    unchanged) that runs torchvision's kernel where mmcv has none.

    Args:
        *args: :class:`mmcv.ops.DeformConv2d` arguments (``in_channels``,
            ``out_channels``, ``kernel_size``, ``stride``, ``padding``,
            ``dilation``, ``groups``, ``deform_groups``).
        backend (str): ``'auto'``: mmcv's compiled op on the devices it was
            compiled for (:func:`mmcv_deform_conv_devices`; the CPU here),
            torchvision's elsewhere (a GPU). ``'mmcv'`` or ``'torchvision'``
            force one. Defaults to ``'auto'``.
        **kwargs: :class:`mmcv.ops.DeformConv2d` keyword arguments.
    """

    def __init__(self, *args, backend: str = 'auto', **kwargs):
        super().__init__(*args, **kwargs)
        if backend not in BACKENDS:
            raise ValueError(f'{self.__class__.__name__}: backend must be one '
                             f'of {BACKENDS}, got {backend!r}')
        self.backend = backend

    def backend_for(self, x: Tensor) -> str:
        """The kernel that :meth:`forward` uses for ``x``."""
        if self.backend != 'auto':
            return self.backend
        if x.device.type in mmcv_deform_conv_devices():
            return 'mmcv'
        return 'torchvision'

    # float32 under autocast, as torchvision's own CUDA autocast wrapper
    # does: neither kernel has a bfloat16 CPU implementation, and it makes
    # the input, offset and weight dtypes agree.
    @float32_under_autocast
    def forward(self, x: Tensor, offset: Tensor) -> Tensor:
        """As :meth:`mmcv.ops.DeformConv2d.forward`.

        Args:
            x (Tensor): Input in shape (B, in_channels, H, W).
            offset (Tensor): Offsets in shape (B, deform_groups * 2 * kh * kw,
                H_out, W_out), ``[y0, x0, y1, x1, ...]`` per group.

        Returns:
            Tensor: Output in shape (B, out_channels, H_out, W_out).
        """
        if self.backend_for(x) == 'mmcv':
            return super().forward(x, offset)
        return _torchvision_deform_conv(x, offset, self.weight, self.stride,
                                        self.padding, self.dilation)
