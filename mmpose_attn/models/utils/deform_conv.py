# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Deformable convolution (DEKR's and SAMKR's adaptive convolution) on any
device torchvision supports.

mmcv's :class:`~mmcv.ops.DeformConv2d` only runs where mmcv's ops were
compiled for the tensor's device (this project builds them for the CPU only,
so not on a GPU). ``torchvision.ops.deform_conv2d`` ships CPU and CUDA
kernels in the torchvision wheel and uses the same offset layout
(``[y0, x0, y1, x1, ...]`` per deformable group) and the same bilinear
sampling (zero outside the image), so the two agree to float rounding.
Both kernels' CPU backward passes are slow (~20 s for one DEKR adaptive
block of the SAMKR CPU tier); ``'grid_sample'`` computes the same function
with PyTorch's vectorised ``grid_sample`` and a grouped matmul, ~5x faster
on the CPU at the cost of storing the sampled columns.

In an ONNX export (``torch.onnx.export``) every backend becomes one standard
operator: ONNX's ``DeformConv`` (opset 19; the same offset layout and
sampling, run by ONNX Runtime's CPU and CUDA providers) or, with
``onnx_op='GridSample'``, the ``GridSample`` + ``MatMul`` formulation of
:func:`grid_sample_deform_conv2d`; never mmcv's custom ``MMCVDeformConv2d``.
"""
from functools import lru_cache

import torch
import torch.nn.functional as F
from mmcv.ops import DeformConv2d as MMCVDeformConv2d
from torch import Tensor
from torchvision.ops import deform_conv2d as tv_deform_conv2d

from .precision import float32_under_autocast

BACKENDS = ('auto', 'mmcv', 'torchvision', 'grid_sample')
ONNX_OPS = ('DeformConv', 'GridSample')


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


def grid_sample_deform_conv2d(x: Tensor, offset: Tensor, weight: Tensor,
                              stride, padding, dilation,
                              groups: int) -> Tensor:
    """Deformable convolution (Dai et al. 2017, Eq. 2) as bilinear sampling
    of every tap at once plus one grouped matmul: the kernel tap k of
    output (i, j) reads the input at (i * s - p + k_y * d + dy,
    j * s - p + k_x * d + dx), zero outside the image, as mmcv's and
    torchvision's kernels do.

    Args:
        x (Tensor): Input in shape (B, C_in, H, W).
        offset (Tensor): (B, deform_groups * 2 * kh * kw, H_out, W_out),
            ``[y0, x0, y1, x1, ...]`` per deformable group.
        weight (Tensor): (C_out, C_in / groups, kh, kw).
        stride, padding, dilation (tuple[int, int]): As ``nn.Conv2d``.
        groups (int): Convolution groups.

    Returns:
        Tensor: (B, C_out, H_out, W_out).
    """
    b, c, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    taps = kh * kw
    h_out, w_out = offset.shape[-2:]
    deform_groups = offset.shape[1] // (2 * taps)
    offset = offset.view(b, deform_groups, taps, 2, h_out, w_out)

    def arange(n, scale, shift=0):
        return torch.arange(n, dtype=x.dtype, device=x.device) * scale - shift

    # taps in the weight's row-major (kh, kw) order
    ky = arange(kh, dilation[0]).repeat_interleave(kw)
    kx = arange(kw, dilation[1]).repeat(kh)
    oy = arange(h_out, stride[0], padding[0])
    ox = arange(w_out, stride[1], padding[1])
    py = ky.view(taps, 1, 1) + oy.view(1, h_out, 1) + offset[:, :, :, 0]
    px = kx.view(taps, 1, 1) + ox.view(1, 1, w_out) + offset[:, :, :, 1]
    # pixel -> grid_sample's [-1, 1] (align_corners=False: pixel centres)
    grid = torch.stack(((2 * px + 1) / w - 1, (2 * py + 1) / h - 1), dim=-1)
    columns = F.grid_sample(
        x.reshape(b * deform_groups, c // deform_groups, h, w),
        grid.view(b * deform_groups, taps * h_out, w_out, 2),
        mode='bilinear',
        padding_mode='zeros',
        align_corners=False)
    # (B, C_in, taps, L) grouped as the weight's (C_in / groups, kh, kw)
    columns = columns.reshape(b, groups, -1, h_out * w_out)
    out = torch.matmul(weight.reshape(groups, c_out // groups, -1), columns)
    return out.view(b, c_out, h_out, w_out)


class _DeformConvONNX(torch.autograd.Function):
    """torchvision's kernel when run; ONNX's standard ``DeformConv`` (opset
    19: input, weight, offset; no mask, no bias) when exported."""

    @staticmethod
    def forward(ctx, x, offset, weight, stride, padding, dilation, groups,
                deform_groups):
        return _torchvision_deform_conv(x, offset, weight, stride, padding,
                                        dilation)

    @staticmethod
    def symbolic(g, x, offset, weight, stride, padding, dilation, groups,
                 deform_groups):
        kernel_shape = weight.type().sizes()[-2:]
        return g.op(
            'DeformConv',
            x,
            weight,
            offset,
            kernel_shape_i=list(kernel_shape),
            strides_i=list(stride),
            pads_i=[padding[0], padding[1], padding[0], padding[1]],
            dilations_i=list(dilation),
            group_i=groups,
            offset_group_i=deform_groups)


class DeformConv2d(MMCVDeformConv2d):
    """mmcv's :class:`~mmcv.ops.DeformConv2d` (same arguments, parameters,
    initialisation and state dict, so MMPose DEKR checkpoints load
    unchanged) that runs torchvision's kernel where mmcv has none: the
    ``DeformConv`` of `SAMKR`_'s adaptive convolution (Sec. III-B, Eq. 8),
    i.e. `Deformable Convolution`_ (Dai et al., ICCV 2017, Eq. 2).

    Note:
        - batch size: B
        - kernel size: [kh, kw]; taps per kernel: kh * kw
        - input size: [H, W]; output size: [H_out, W_out], as ``nn.Conv2d``
          with the same stride, padding and dilation

        Input x: (B, in_channels, H, W). Offsets: (B, deform_groups * 2 *
        kh * kw, H_out, W_out), ``[y0, x0, y1, x1, ...]`` per deformable
        group, in pixels; tap k of output (i, j) reads x bilinearly at
        (i * stride - padding + k_y * dilation + y_k, j * stride - padding
        + k_x * dilation + x_k), zero outside the image. Output:
        (B, out_channels, H_out, W_out). With integer offsets every tap
        reads one pixel; with zero offsets it is ``nn.Conv2d``.

    Args:
        *args: :class:`mmcv.ops.DeformConv2d` arguments (``in_channels``,
            ``out_channels``, ``kernel_size``, ``stride``, ``padding``,
            ``dilation``, ``groups``, ``deform_groups``).
        backend (str): ``'auto'``: mmcv's compiled op on the devices it was
            compiled for (:func:`mmcv_deform_conv_devices`; the CPU here),
            torchvision's elsewhere (a GPU). ``'mmcv'``, ``'torchvision'`` or
            ``'grid_sample'`` (:func:`grid_sample_deform_conv2d`, any device,
            the fastest on the CPU) force one. Defaults to ``'auto'``.
        onnx_op (str): What an ONNX export writes, whatever the backend:
            ``'DeformConv'`` (ONNX's operator, opset >= 19; the faster of
            the two in ONNX Runtime on the CPU) or ``'GridSample'``
            (:func:`grid_sample_deform_conv2d`, opset >= 16). Defaults to
            ``'DeformConv'``.
        **kwargs: :class:`mmcv.ops.DeformConv2d` keyword arguments.

    .. _`SAMKR`: https://doi.org/10.1109/IJCNN55064.2022.9891995
    .. _`Deformable Convolution`: https://arxiv.org/abs/1703.06211
    """

    def __init__(self,
                 *args,
                 backend: str = 'auto',
                 onnx_op: str = 'DeformConv',
                 **kwargs):
        super().__init__(*args, **kwargs)
        if backend not in BACKENDS:
            raise ValueError(f'{self.__class__.__name__}: backend must be one '
                             f'of {BACKENDS}, got {backend!r}')
        if onnx_op not in ONNX_OPS:
            raise ValueError(f'{self.__class__.__name__}: onnx_op must be one '
                             f'of {ONNX_OPS}, got {onnx_op!r}')
        self.backend = backend
        self.onnx_op = onnx_op

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
        backend = self.backend_for(x)
        if torch.onnx.is_in_onnx_export():
            backend = 'grid_sample' if self.onnx_op == 'GridSample' else 'onnx'
        if backend == 'onnx':
            return _DeformConvONNX.apply(x, offset, self.weight, self.stride,
                                         self.padding, self.dilation,
                                         self.groups, self.deform_groups)
        if backend == 'mmcv':
            return super().forward(x, offset)
        if backend == 'grid_sample':
            return grid_sample_deform_conv2d(x, offset, self.weight,
                                             self.stride, self.padding,
                                             self.dilation, self.groups)
        return _torchvision_deform_conv(x, offset, self.weight, self.stride,
                                        self.padding, self.dilation)
