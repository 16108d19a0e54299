# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Receptive Fortified hourglass of `SADI-Net`_ (Gao et al., arXiv
2311.05323, Sec. III-B, Fig. 3).

.. _`SADI-Net`: https://arxiv.org/abs/2311.05323
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from mmpose.models.backbones.resnet import BasicBlock
from mmpose.models.backbones.utils import SELayer
from mmpose.registry import MODELS
from .dilated_hourglass import DilatedHourglassNet


def projection_shortcut(in_channels: int, out_channels: int,
                        norm_cfg: dict) -> Optional[nn.Module]:
    """ResNet's 1x1 conv-BN shortcut where the width changes, else None
    (identity): the ``downsample`` of MMPose's residual blocks."""
    if in_channels == out_channels:
        return None
    return ConvModule(
        in_channels,
        out_channels,
        1,
        bias=False,
        norm_cfg=norm_cfg,
        act_cfg=None)


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; the backward multiplies the gradient by ``scale``."""

    @staticmethod
    def forward(ctx, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad * ctx.scale, None


def scale_gradient(x: Tensor, scale: float) -> Tensor:
    """``x`` whose gradient is multiplied by ``scale`` on the way back:
    ``x`` itself for 1, ``x.detach()`` for 0 (no graph kept at all)."""
    if scale == 1.0:
        return x
    if scale == 0.0:
        return x.detach()
    return _ScaleGradient.apply(x, scale)


class ReceptiveFortifiedModule(BasicBlock):
    """Receptive Fortified Module of `SADI-Net`_: the dilated residual block
    of Sec. III-B, Fig. 3(a).

    MMPose's :class:`BasicBlock` (two 3x3 convs + shortcut, Fig. 3(b)) with a
    parallel dilated 3x3 conv (Eq. 1, dilation ``b``) whose output is added to
    the two-conv branch; the sum goes through an SE block ("the output is
    then obtained from the SE block") before the shortcut is added, as in
    SE-ResNet:

        out = ReLU(SE(BN(conv3x3(ReLU(BN(conv3x3(x))))) + BN(dconv3x3_b(x)))
                   + shortcut(x))

    With ``branch_dilation=None`` and ``se_ratio=None`` it is exactly
    :class:`BasicBlock`.

    Note:
        - B: batch size; [H, W]: feature size

        Input: (B, in_channels, H, W). Output: (B, out_channels, H, W).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels; a 1x1 conv-BN shortcut is used
            when they differ from ``in_channels``.
        branch_dilation (int, optional): Dilation ``b`` of the parallel conv
            (the paper gives no value). ``None``: no branch. Defaults to 2.
        se_ratio (int, optional): SE squeeze ratio (SE-Net's 16). ``None``:
            no SE block. Defaults to 16.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Example:
        >>> import torch
        >>> rfm = ReceptiveFortifiedModule(8, 16).eval()
        >>> tuple(rfm(torch.rand(1, 8, 5, 5)).shape)
        (1, 16, 5, 5)

    .. _`SADI-Net`: https://arxiv.org/abs/2311.05323
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 branch_dilation: Optional[int] = 2,
                 se_ratio: Optional[int] = 16,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(
            in_channels,
            out_channels,
            downsample=projection_shortcut(in_channels, out_channels,
                                           norm_cfg),
            norm_cfg=norm_cfg,
            init_cfg=init_cfg)
        self.branch_dilation = branch_dilation
        self.dilated_conv = None
        if branch_dilation is not None:
            self.dilated_conv = ConvModule(
                in_channels,
                out_channels,
                3,
                padding=branch_dilation,
                dilation=branch_dilation,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=None)
        self.se = None
        if se_ratio is not None:
            self.se = SELayer(out_channels, ratio=se_ratio)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.norm2(self.conv2(self.relu(self.norm1(self.conv1(x)))))
        if self.dilated_conv is not None:
            out = out + self.dilated_conv(x)
        if self.se is not None:
            out = self.se(out)
        return self.relu(out + identity)


@MODELS.register_module()
class RFMHourglassNet(DilatedHourglassNet):
    """Stacked hourglass built from Receptive Fortified Modules (`SADI-Net`_,
    Sec. III-B), with the decoder features F_1..F_N of the last stack for the
    Spatial Fusion Module (Sec. III-C).

    A :class:`DilatedHourglassNet` whose residual units (stem, every
    hourglass level, stack outputs) are :class:`ReceptiveFortifiedModule`;
    the geometry defaults to the classic hourglass (Sec. III-A: four 2x
    poolings, decoder levels at 8, 16, 32, 64 px for a 256x256 input). It
    predicts nothing: the heatmaps, one per stack for intermediate
    supervision, the last one being H_1 (Sec. III-B), come from the head's
    1x1 convs (:class:`DLMHead`, or a stock ``CPMHead``/``HeatmapHead``).
    The last stack's decoder features, highest resolution first, are
    projected by 1x1 conv-BN-ReLU to ``level_channels`` (64, 128, 256, 512:
    the F_1..F_4 of Sec. III-C, whose widths the paper states while the
    hourglass keeps one width).

    Note:
        - B: batch size; S: ``num_stacks``; N: ``len(level_channels)``
        - C: ``feat_channels``; C_n: ``level_channels[n - 1]``
        - [H, W]: input size (divisible by ``4 * 2 ** num_downsamples``)

        Input: images, (B, 3, H, W). Output, a plain tuple of ``N + S``
        tensors: ``out[n - 1]`` = F_n, (B, C_n, H / 2^(n+1), W / 2^(n+1))
        for n = 1..N (64, 32, 16, 8 px at 256x256), then ``out[N + s - 1]``
        = the features y_s of stack s, (B, C, H/4, W/4), for s = 1..S. The
        last entry is y_S, which H_1 is predicted from (what a stock
        ``HeatmapHead`` reads); ``out[-S:]`` are what a stock
        ``CPMHead(num_stages=S)`` reads when ``level_channels=None`` (N = 0,
        the output of :class:`DilatedHourglassNet`).

    Args:
        num_stacks (int): Stacked hourglasses. The paper does not say; its
            Hourglass baseline (Table 3) is the 8-stack hourglass, which the
            SADI-Net configs follow. Defaults to 1.
        num_downsamples (int): Pooled levels (4 = classic). Defaults to 4.
        dilated_blocks (bool): Must be ``False``: every unit is an RFM, whose
            dilation is its parallel branch (``dilation``); SPCNet's dilated
            bottlenecks are :class:`DilatedHourglassNet`'s. Defaults to
            False.
        dilation (int): ``b`` of the RFM's parallel conv (Eq. 1; the paper
            gives no value). Defaults to 2.
        se_ratio (int, optional): SE squeeze ratio of the RFM; ``None``: no
            SE block. Defaults to 16.
        level_channels (Sequence[int], optional): Widths of F_1..F_N (N <=
            depth, outermost levels). ``None``: no F_n, the output is the
            stacks' features only. Defaults to ``(64, 128, 256, 512)``.
        dilated_branch (bool): The RFM's parallel dilated conv. ``False``
            with ``se_ratio=None`` gives a hourglass of plain basic blocks
            (Fig. 3(b), the paper's Table 3 baseline). Defaults to True.
        feature_grad_scale (float): Factor on the gradient that losses on
            F_1..F_N (the DLM's likelihood, Eq. 4, and its heatmap term
            L(H2), Eq. 7-8) send back into the hourglass; the forward pass
            is unchanged. 1.0: the paper's single objective (Eq. 8) trains
            the hourglass through the SFM and DLM built on its features
            (Fig. 2). 0.0: detached features (the ``-detached`` ablation
            configs): those losses train the projections and what reads
            them, not the hourglass. A value in between is a stability
            switch (SADI-Net README, "Coupling"). Defaults to 1.0.
        **kwargs: Other :class:`DilatedHourglassNet` arguments
            (``feat_channels``, ``stem_channels``, ``depth``, ...; not
            ``out_levels``).

    Example:
        >>> import torch
        >>> net = RFMHourglassNet(num_stacks=2, feat_channels=16,
        ...                       stem_channels=(8, 16), se_ratio=4)
        >>> _ = net.eval()
        >>> out = net(torch.rand(1, 3, 256, 256))
        >>> [tuple(f.shape[1:]) for f in out[:4]]  # F_1..F_4
        [(64, 64, 64), (128, 32, 32), (256, 16, 16), (512, 8, 8)]
        >>> [tuple(y.shape[1:]) for y in out[4:]]  # y_1, y_2
        [(16, 64, 64), (16, 64, 64)]

    .. _`SADI-Net`: https://arxiv.org/abs/2311.05323
    """

    def __init__(self,
                 num_stacks: int = 1,
                 num_downsamples: int = 4,
                 dilated_blocks: bool = False,
                 dilation: int = 2,
                 se_ratio: Optional[int] = 16,
                 level_channels: Optional[Sequence[int]] = (64, 128, 256,
                                                            512),
                 dilated_branch: bool = True,
                 feature_grad_scale: float = 1.0,
                 **kwargs):
        if dilated_blocks:
            raise ValueError(
                f'{type(self).__name__}: dilated_blocks=True is not '
                'supported: every unit is a Receptive Fortified Module, whose '
                'dilation is its parallel branch (`dilation`, '
                '`dilated_branch`); use DilatedHourglassNet for dilated '
                'bottlenecks')
        if kwargs.get('out_levels'):
            raise ValueError(
                f'{type(self).__name__}: out_levels=True is not supported; '
                'the decoder features it gives are F_1..F_N '
                '(`level_channels`)')
        # make_block runs inside the parent's __init__.
        self.se_ratio = se_ratio
        self.dilated_branch = dilated_branch
        if not 0.0 <= feature_grad_scale <= 1.0:
            raise ValueError(
                f'{type(self).__name__}: feature_grad_scale must be in '
                f'[0, 1], got {feature_grad_scale!r}')
        self.feature_grad_scale = float(feature_grad_scale)
        super().__init__(
            num_stacks=num_stacks,
            num_downsamples=num_downsamples,
            dilation=dilation,
            dilated_blocks=dilated_blocks,
            **kwargs)
        self.level_channels = tuple(level_channels or ())
        if len(self.level_channels) > self.depth:
            raise ValueError(
                f'{type(self).__name__}: {len(self.level_channels)} '
                f'level_channels for a depth-{self.depth} hourglass')
        self.level_projections = nn.ModuleList(
            ConvModule(self.feat_channels, c, 1, norm_cfg=self.norm_cfg)
            for c in self.level_channels)

    def make_block(self, in_channels: int, out_channels: int,
                   kind: str) -> nn.Module:
        return ReceptiveFortifiedModule(
            in_channels,
            out_channels,
            branch_dilation=self.dilation if self.dilated_branch else None,
            se_ratio=self.se_ratio,
            norm_cfg=self.norm_cfg)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward the stacks and project the last stack's decoder levels.

        Args:
            x (Tensor): Images, (B, 3, H, W).

        Returns:
            tuple[Tensor]: ``(F_1, ..., F_N, y_1, ..., y_S)`` (see the class
            Note).
        """
        stack_feats, levels = self.forward_stacks(x)
        outermost_first = reversed(levels[-1])
        features = (
            proj(scale_gradient(f, self.feature_grad_scale))
            for proj, f in zip(self.level_projections, outermost_first))
        return (*features, *stack_feats)
