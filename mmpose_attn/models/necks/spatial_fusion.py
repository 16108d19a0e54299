"""Spatial Fusion Module of SADI-Net (Gao et al., arXiv 2311.05323,
Sec. III-C, Fig. 2(b), 4 and 5)."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.registry import MODELS


def _resize(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """Bilinear up-sampling, area (average) down-sampling."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if x.shape[-2] < size[0]:
        return F.interpolate(
            x, size=size, mode='bilinear', align_corners=False)
    return F.adaptive_avg_pool2d(x, size)


class GlobalSpatialAttention(BaseModule):
    """Global attention of the SFM (Sec. III-C, Eq. 2-3, Fig. 4).

    Each F_n goes through a 1x1 conv to ``mid_channels`` and is up-sampled to
    the resolution of F_1 (64x64 for a 256x256 input), giving G_n. A 1x1 conv
    per level projects G_n to one channel U_n; a softmax across the four U_n
    at every pixel gives W_n (Eq. 2, so sum_n W_n = 1, Eq. 3). The weighted
    features sum_n W_n * G_n are brought back to each F_n's channels by a 1x1
    conv and to its resolution by average pooling.

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_N, highest resolution
            first (64, 128, 256, 512 in the paper).
        mid_channels (int): Channels of G_n (256 in the paper).
        norm_cfg (dict): Norm layer of the 1x1 convs.
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
        # One 1x1 projection to a single channel per level, stored as one
        # (N, C) matrix so all levels are projected in one einsum.
        self.score_weight = nn.Parameter(torch.zeros(n, mid_channels))
        self.score_bias = nn.Parameter(torch.zeros(n))
        nn.init.normal_(self.score_weight, std=0.01)
        self.expand = nn.ModuleList(
            ConvModule(mid_channels, c, 1, norm_cfg=norm_cfg)
            for c in self.in_channels)

    def attention_weights(self, g: Tensor) -> Tensor:
        """W of Eq. 2 from stacked G of shape (B, N, C, H, W) -> (B, N, H,
        W)."""
        u = torch.einsum('bnchw,nc->bnhw', g, self.score_weight)
        u = u + self.score_bias.view(1, -1, 1, 1)
        return u.softmax(dim=1)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tuple[Tensor], Tensor]:
        """Returns the re-weighted features (one per level, each of its F_n's
        shape) and the weights W (B, N, H_1, W_1)."""
        size = feats[0].shape[-2:]
        g = torch.stack([
            _resize(conv(f), size) for conv, f in zip(self.reduce, feats)
        ], 1)
        w = self.attention_weights(g)
        fused = torch.einsum('bnhw,bnchw->bchw', w, g)
        # 1x1 conv and average pooling commute: pool first, it is cheaper.
        outs = tuple(
            conv(_resize(fused, f.shape[-2:]))
            for conv, f in zip(self.expand, feats))
        return outs, w


class LocalSpatialAttention(nn.Module):
    """Local attention of the SFM (Sec. III-C, Fig. 5).

    The fused map X (the down-sampled higher-resolution feature already added
    to the next one) is re-weighted by a softmax taken "along the columns",
    i.e. over the height axis for every (channel, column): the weights of a
    column sum to 1. They are multiplied by the height so that a column of
    constant features is left unchanged (the paper gives no scale; without it
    the output would shrink by 1/H).
    """

    @staticmethod
    def attention_weights(x: Tensor) -> Tensor:
        return x.softmax(dim=-2)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.attention_weights(x) * x.shape[-2]


@MODELS.register_module()
class SpatialFusionModule(BaseModule):
    """Spatial Fusion Module (SFM) of SADI-Net (Sec. III-C).

    Global attention over F_1..F_N (:class:`GlobalSpatialAttention`), then
    the HRNet-classification-style head: every level is widened to
    ``head_channels`` (128, 256, 512, 1024), the higher-resolution
    representation is down-sampled by a stride-2 3x3 conv to the next level's
    width, added to it, and the sum is re-weighted by the local attention
    (:class:`LocalSpatialAttention`); this is repeated down to the lowest
    resolution, which yields the ``head_channels[-1]``-channel output that the
    distribution head pools.

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_N, highest resolution
            first (64, 128, 256, 512).
        mid_channels (int): Channels of the global attention's G_n (256).
        head_channels (Sequence[int]): Widened channels per level (128, 256,
            512, 1024).
        norm_cfg (dict): Norm layer config.

    Input: a sequence of N features, F_{n+1} at half the resolution of F_n.
    Output: a 1-tuple with the (B, head_channels[-1], h_N, w_N) feature.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 256, 512),
                 mid_channels: int = 256,
                 head_channels: Sequence[int] = (128, 256, 512, 1024),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(head_channels) or len(in_channels) < 2:
            raise ValueError(
                'SpatialFusionModule: in_channels and head_channels must have '
                f'the same length >= 2, got {in_channels} and {head_channels}')
        self.in_channels = tuple(in_channels)
        self.head_channels = tuple(head_channels)
        self.global_attention = GlobalSpatialAttention(
            in_channels, mid_channels, norm_cfg=norm_cfg)
        self.widen = nn.ModuleList(
            ConvModule(c, h, 1, norm_cfg=norm_cfg)
            for c, h in zip(in_channels, head_channels))
        self.downsample = nn.ModuleList(
            ConvModule(h, h_next, 3, stride=2, padding=1, norm_cfg=norm_cfg)
            for h, h_next in zip(head_channels[:-1], head_channels[1:]))
        self.local_attention = LocalSpatialAttention()

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor]:
        if len(feats) != len(self.in_channels):
            raise ValueError(
                f'SpatialFusionModule expects {len(self.in_channels)} '
                f'features, got {len(feats)}')
        fused, _ = self.global_attention(feats)
        widened = [conv(f) for conv, f in zip(self.widen, fused)]
        y = widened[0]
        for down, nxt in zip(self.downsample, widened[1:]):
            y = self.local_attention(_resize(down(y), nxt.shape[-2:]) + nxt)
        return (y, )
