# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Spatial Fusion Module of `SADI-Net`_ (Gao et al., arXiv 2311.05323,
Sec. III-C, Fig. 2(b), 4 and 5).

.. _`SADI-Net`: https://arxiv.org/abs/2311.05323
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from mmpose.models.backbones.resnet import Bottleneck
from mmpose.registry import MODELS
from ..backbones.rfm_hourglass import projection_shortcut
from ..utils import float32_under_autocast


def _resize(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """Bilinear up-sampling, area (average) down-sampling."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if x.shape[-2] < size[0]:
        return F.interpolate(
            x, size=size, mode='bilinear', align_corners=False)
    h, w = x.shape[-2:]
    if h % size[0] == 0 and w % size[1] == 0:
        # Same result as the adaptive pooling, faster kernels on CPU.
        return F.avg_pool2d(x, (h // size[0], w // size[1]))
    return F.adaptive_avg_pool2d(x, size)


def _bilinear_matrix(n_in: int, n_out: int, like: Tensor) -> Tensor:
    """(n_out, n_in) weights of 1-D bilinear resizing (align_corners=False),
    taken from ``F.interpolate`` itself (the other axis keeps its size, which
    is an exact identity)."""
    eye = torch.eye(n_in, dtype=like.dtype, device=like.device)
    return F.interpolate(
        eye[None, None], size=(n_out, n_in), mode='bilinear',
        align_corners=False)[0, 0]


class _WeightedUpsampledSum(torch.autograd.Function):
    """S = sum_n W_n * up(R_n) (Eq. 3's weighted features), with up the
    bilinear up-sampling of :func:`_resize`.

    Equivalent to the plain expression, cheaper: autograd would keep all N
    up-sampled, ``mid_channels``-wide G_n = up(R_n) for the backward pass;
    here only the low-resolution R_n are kept and each G_n is recomputed, one
    level at a time, in the backward. Bilinear resizing is separable, so
    up(R) = A_h R A_w^T is two small matrix products (CPU's ``interpolate``
    on contiguous NCHW maps spends most of its time on layout copies).

    Inputs: W (B, N, H, W) and R_1..R_N (B, C, h_n, w_n); output (B, C, H, W).
    """

    @staticmethod
    def _matrices(in_size: Tuple[int, int], size: Tuple[int, int],
                  like: Tensor) -> Tuple[Tensor, Tensor]:
        """A_h (H, h) and A_w (W, w), in ``like``'s dtype and device."""
        return (_bilinear_matrix(in_size[0], size[0], like),
                _bilinear_matrix(in_size[1], size[1], like))

    @staticmethod
    def _up(r: Tensor, size: Tuple[int, int]) -> Tensor:
        if tuple(r.shape[-2:]) == tuple(size):
            return r
        a_h, a_w = _WeightedUpsampledSum._matrices(r.shape[-2:], size, r)
        return torch.matmul(a_h, torch.matmul(r, a_w.t()))

    @staticmethod
    def forward(ctx, weights: Tensor, *feats: Tensor) -> Tensor:
        size = tuple(weights.shape[-2:])
        out = None
        for n, r in enumerate(feats):
            g = _WeightedUpsampledSum._up(r, size)
            if out is None:
                out = g * weights[:, n:n + 1]
            else:
                out.addcmul_(g, weights[:, n:n + 1])
        ctx.save_for_backward(weights, *feats)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        weights, *feats = ctx.saved_tensors
        size = tuple(grad.shape[-2:])
        grad = grad.contiguous()
        grad_w, grad_feats = [], []
        for n, r in enumerate(feats):
            # dtypes can differ under autocast (half R_n, float grad).
            g = _WeightedUpsampledSum._up(r.to(grad.dtype), size)
            grad_w.append((grad * g).sum(1, keepdim=True))
            grad_g = grad * weights[:, n:n + 1]
            if tuple(r.shape[-2:]) != size:
                a_h, a_w = _WeightedUpsampledSum._matrices(
                    r.shape[-2:], size, grad_g)
                grad_g = torch.matmul(a_h.t(), torch.matmul(grad_g, a_w))
            grad_feats.append(grad_g.to(r.dtype))
        return (torch.cat(grad_w, 1).to(weights.dtype), *grad_feats)


class GlobalSpatialAttention(BaseModule):
    """Global attention of the SFM of `SADI-Net`_ (Sec. III-C, Eq. 2-3,
    Fig. 4).

    Each F_n goes through a 1x1 conv to ``mid_channels`` (R_n) and is
    up-sampled to the resolution of F_1 (64x64 for a 256x256 input), giving
    G_n. A 1x1 conv per level projects G_n to one channel U_n; a softmax
    across the four U_n at every pixel gives W_n (Eq. 2, so sum_n W_n = 1,
    Eq. 3). The weighted features sum_n W_n * G_n are brought back to each
    F_n's channels by a 1x1 conv and to its resolution by average pooling.

    Computed in an equivalent, cheaper order: the projection to U_n is linear
    and bilinear up-sampling weights sum to 1, so U_n = up(proj(R_n)) is
    taken at R_n's resolution and only its single channel is up-sampled; the
    weighted sum never stores the G_n for autograd
    (:class:`_WeightedUpsampledSum`); average pooling and a 1x1 conv commute,
    so the sum is pooled first, each level from the previous pooled one.

    Note:
        - B: batch size; N: levels; C_n: ``in_channels[n - 1]``
        - [H_n, W_n]: size of F_n, [H_1, W_1] the largest

        Input: F_1..F_N, each (B, C_n, H_n, W_n). Output: the re-weighted
        features, one per level, each of its F_n's shape, and the weights W
        (B, N, H_1, W_1).

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_N, highest resolution
            first (64, 128, 256, 512 in the paper).
        mid_channels (int): Channels of G_n (256 in the paper). Defaults to
            256.
        norm_cfg (dict): Norm layer of the 1x1 convs. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    .. _`SADI-Net`: https://arxiv.org/abs/2311.05323
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 mid_channels: int = 256,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = tuple(in_channels)
        n = len(self.in_channels)
        self.reduce = nn.ModuleList(
            ConvModule(c, mid_channels, 1, norm_cfg=norm_cfg)
            for c in self.in_channels)
        # The 1x1 projections to one channel, one row per level.
        self.score_weight = nn.Parameter(torch.zeros(n, mid_channels))
        self.score_bias = nn.Parameter(torch.zeros(n))
        nn.init.normal_(self.score_weight, std=0.01)
        self.expand = nn.ModuleList(
            ConvModule(mid_channels, c, 1, norm_cfg=norm_cfg)
            for c in self.in_channels)

    @float32_under_autocast
    def attention_weights(self, reduced: Sequence[Tensor],
                          size: Tuple[int, int]) -> Tensor:
        """W of Eq. 2, (B, N, H, W), from R_1..R_N at their own
        resolutions; in float32 under autocast (a softmax)."""
        c = self.score_weight.shape[1]
        u = torch.cat([
            _resize(
                F.conv2d(r, self.score_weight[n].view(1, c, 1, 1),
                         self.score_bias[n:n + 1]), size)
            for n, r in enumerate(reduced)
        ], 1)
        return u.softmax(dim=1)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tuple[Tensor], Tensor]:
        """Re-weight F_1..F_N by the global attention (Eq. 2-3).

        Args:
            feats (Sequence[Tensor]): F_1..F_N, (B, C_n, H_n, W_n).

        Returns:
            tuple: the re-weighted features (a tuple, one per level, each of
            its F_n's shape) and the weights W (B, N, H_1, W_1).
        """
        size = tuple(feats[0].shape[-2:])
        reduced = [conv(f) for conv, f in zip(self.reduce, feats)]
        w = self.attention_weights(reduced, size)
        fused = _WeightedUpsampledSum.apply(w, *reduced)
        outs, pooled = [], fused
        for conv, f in zip(self.expand, feats):
            size = f.shape[-2:]
            if pooled.shape[-2] % size[0] or pooled.shape[-1] % size[1]:
                pooled = fused
            # Averages of equal-block averages: pool each level from the
            # previous one, not all from the full-resolution map.
            pooled = _resize(pooled, size)
            outs.append(conv(pooled))
        return tuple(outs), w


class LocalSpatialAttention(nn.Module):
    """Local attention of the SFM of `SADI-Net`_ (Sec. III-C, Fig. 5).

    The fused map X (the down-sampled higher-resolution feature already added
    to the next one) is re-weighted by a softmax taken "along the columns",
    i.e. over the height axis for every (channel, column): the weights of a
    column sum to 1. They are multiplied by the height so that a column of
    constant features is left unchanged (the paper gives no scale; without it
    the output would shrink by 1/H).

    Note:
        Input: the fused map X, (B, C, H, W). Output: X * H * softmax_H(X),
        (B, C, H, W).

    .. _`SADI-Net`: https://arxiv.org/abs/2311.05323
    """

    @staticmethod
    @float32_under_autocast
    def attention_weights(x: Tensor) -> Tensor:
        """Softmax over the height axis, in float32 under autocast."""
        return x.softmax(dim=-2)

    def forward(self, x: Tensor) -> Tensor:
        """Re-weight ``x`` (B, C, H, W) along its columns; same shape."""
        return x * self.attention_weights(x).to(x.dtype) * x.shape[-2]


def _bottleneck(in_channels: int, out_channels: int,
                norm_cfg: dict) -> Bottleneck:
    """MMPose's ResNet :class:`Bottleneck` (expansion 4), with a 1x1
    conv-BN shortcut where the width changes: HRNet's ``incre_modules``."""
    return Bottleneck(
        in_channels,
        out_channels,
        downsample=projection_shortcut(in_channels, out_channels, norm_cfg),
        norm_cfg=norm_cfg)


@MODELS.register_module()
class SpatialFusionModule(BaseModule):
    """Spatial Fusion Module (SFM) of `SADI-Net`_ (Sec. III-C, Fig. 2(b)).

    Global attention over F_1..F_N (:class:`GlobalSpatialAttention`), then
    the classification head "based on the HRNet classification approach"
    (HRNet's ``incre_modules``, ``downsamp_modules`` and ``final_layer``):
    every level is widened to ``head_channels`` (128, 256, 512, 1024) by a
    ResNet bottleneck block, the higher-resolution representation is
    down-sampled by a stride-2 3x3 conv-BN-ReLU to the next level's width,
    added to it, and the sum is re-weighted by the local attention
    (:class:`LocalSpatialAttention`); this is repeated down to the lowest
    resolution, and a final 1x1 conv-BN-ReLU widens the result to
    ``out_channels`` (2048), the feature the distribution head pools.

    :class:`DLMHead` builds and runs it (training only, on the positions of
    its input that hold F_1..F_N); as a model neck it would replace the
    features the heatmaps are predicted from.

    Note:
        - B: batch size; N: levels; C_n: ``in_channels[n - 1]``
        - [H_n, W_n]: size of F_n, each level half the previous one

        Input: a sequence of N features F_1..F_N, (B, C_n, H_n, W_n),
        highest resolution first. Output: a plain 1-tuple with the
        (B, out_channels, H_N, W_N) feature.

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_N, highest resolution
            first. Defaults to ``(64, 128, 256, 512)`` (the paper's).
        mid_channels (int): Channels of the global attention's G_n.
            Defaults to 256.
        head_channels (Sequence[int]): Widened channels per level, multiples
            of 4. Defaults to ``(128, 256, 512, 1024)``.
        out_channels (int): Channels of the final 1x1 conv (HRNet's).
            Defaults to 2048.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Example:
        >>> import torch
        >>> sfm = SpatialFusionModule((4, 8, 16, 32), mid_channels=8,
        ...                           head_channels=(8, 16, 32, 64),
        ...                           out_channels=96).eval()
        >>> feats = [torch.rand(1, c, 32 >> n, 32 >> n)
        ...          for n, c in enumerate((4, 8, 16, 32))]
        >>> [tuple(y.shape) for y in sfm(feats)]
        [(1, 96, 4, 4)]

    .. _`SADI-Net`: https://arxiv.org/abs/2311.05323
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 256, 512),
                 mid_channels: int = 256,
                 head_channels: Sequence[int] = (128, 256, 512, 1024),
                 out_channels: int = 2048,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(head_channels) or len(in_channels) < 2:
            raise ValueError(
                'SpatialFusionModule: in_channels and head_channels must have '
                f'the same length >= 2, got {in_channels} and {head_channels}')
        if any(h % 4 for h in head_channels):
            raise ValueError(
                'SpatialFusionModule: head_channels must be multiples of 4 '
                f'(bottleneck expansion), got {head_channels}')
        self.in_channels = tuple(in_channels)
        self.head_channels = tuple(head_channels)
        self.out_channels = out_channels
        self.global_attention = GlobalSpatialAttention(
            in_channels, mid_channels, norm_cfg=norm_cfg)
        self.widen = nn.ModuleList(
            _bottleneck(c, h, norm_cfg)
            for c, h in zip(in_channels, head_channels))
        self.downsample = nn.ModuleList(
            ConvModule(h, h_next, 3, stride=2, padding=1, norm_cfg=norm_cfg)
            for h, h_next in zip(head_channels[:-1], head_channels[1:]))
        self.local_attention = LocalSpatialAttention()
        self.final_layer = ConvModule(
            head_channels[-1], out_channels, 1, norm_cfg=norm_cfg)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor]:
        """Fuse F_1..F_N (see the class Note).

        Args:
            feats (Sequence[Tensor]): F_1..F_N, (B, C_n, H_n, W_n).

        Returns:
            tuple[Tensor]: ``(y, )``, y (B, out_channels, H_N, W_N).
        """
        if len(feats) != len(self.in_channels):
            raise ValueError(
                f'SpatialFusionModule expects {len(self.in_channels)} '
                f'features, got {len(feats)}')
        fused, _ = self.global_attention(feats)
        widened = [block(f) for block, f in zip(self.widen, fused)]
        y = widened[0]
        for down, nxt in zip(self.downsample, widened[1:]):
            y = self.local_attention(_resize(down(y), nxt.shape[-2:]) + nxt)
        return (self.final_layer(y), )
