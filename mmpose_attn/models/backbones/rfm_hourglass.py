"""Receptive Fortified hourglass of SADI-Net (Gao et al., arXiv 2311.05323,
Sec. III-B, Fig. 3)."""
from typing import NamedTuple, Optional, Sequence, Tuple

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
    """Receptive Fortified Module: the dilated residual block of Fig. 3(a).

    MMPose's :class:`BasicBlock` (two 3x3 convs + shortcut, Fig. 3(b)) with a
    parallel dilated 3x3 conv (Eq. 1, dilation ``b``) whose output is added to
    the two-conv branch; the sum goes through an SE block ("the output is
    then obtained from the SE block") before the shortcut is added, as in
    SE-ResNet:

        out = ReLU(SE(BN(conv3x3(ReLU(BN(conv3x3(x))))) + BN(dconv3x3_b(x)))
                   + shortcut(x))

    With ``branch_dilation=None`` and ``se_ratio=None`` it is exactly
    :class:`BasicBlock`.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels; a 1x1 conv-BN shortcut is used
            when they differ from ``in_channels``.
        branch_dilation (int, optional): Dilation ``b`` of the parallel conv
            (the paper gives no value; default 2). ``None``: no branch.
        se_ratio (int, optional): SE squeeze ratio (16 as in SE-Net).
            ``None``: no SE block.
        norm_cfg (dict): Norm layer config.
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


class RFMHourglassOutput(NamedTuple):
    """Output of :class:`RFMHourglassNet`: the fields of
    :class:`HourglassOutput` plus ``features`` = (F_1, ..., F_N), the last
    stack's decoder features, highest resolution first (64, 32, 16, 8 px for
    a 256x256 input) projected to ``level_channels``."""
    heatmaps: Tuple[Tensor, ...]
    levels: Tuple[Tuple[Tensor, ...], ...]
    stack_feats: Tuple[Tensor, ...]
    features: Tuple[Tensor, ...]


@MODELS.register_module()
class RFMHourglassNet(DilatedHourglassNet):
    """Stacked hourglass built from Receptive Fortified Modules (Sec. III-B).

    A :class:`DilatedHourglassNet` whose residual units (stem, every
    hourglass level, stack outputs) are :class:`ReceptiveFortifiedModule`;
    the geometry defaults to the classic hourglass (Sec. III-A: four 2x
    poolings, decoder levels at 8, 16, 32, 64 px for a 256x256 input), with
    one heatmap per stack for intermediate supervision. The last stack's
    heatmaps are H_1 (Sec. III-B); its decoder features, highest
    resolution first, are projected by 1x1 conv-BN-ReLU to
    ``level_channels`` (64, 128, 256, 512: the F_1..F_4 of Sec. III-C, whose
    widths the paper states while the hourglass keeps one width) for the
    Spatial Fusion Module.

    Args:
        num_keypoints (int): Heatmap channels.
        num_stacks (int): Stacked hourglasses. The paper does not say; its
            Hourglass baseline (Table 3) is the 8-stack hourglass, which the
            SADI-Net configs follow. Default: 1.
        num_downsamples (int): Pooled levels (4 = classic). Default: 4.
        dilated_blocks (bool): Must be ``False``: every unit is an RFM, whose
            dilation is its parallel branch (``dilation``); SPCNet's dilated
            bottlenecks are :class:`DilatedHourglassNet`'s. Default: False.
        dilation (int): ``b`` of the RFM's parallel conv (Eq. 1; the paper
            gives no value). Default: 2.
        se_ratio (int, optional): SE squeeze ratio of the RFM; ``None``: no
            SE block.
        dilated_branch (bool): The RFM's parallel dilated conv. ``False``
            with ``se_ratio=None`` gives a hourglass of plain basic blocks
            (Fig. 3(b), the paper's Table 3 baseline). Default: True.
        level_channels (Sequence[int], optional): Widths of F_1..F_N (N <=
            depth, outermost levels). ``None``: no ``features``.
        feature_grad_scale (float): Factor on the gradient that losses on
            F_1..F_N (the DLM's likelihood, Eq. 4, and its heatmap term
            L(H2), Eq. 7-8) send back into the hourglass; the forward pass
            is unchanged. 1.0 (default): the paper's single objective (Eq. 8)
            trains the hourglass through the SFM and DLM built on its
            features (Fig. 2). 0.0: detached features (the ``-detached``
            ablation configs): those losses train the projections and what
            reads them, not the hourglass. A value in between is a
            stability switch (SADI-Net README, "Coupling").
        **kwargs: Other :class:`DilatedHourglassNet` arguments.
    """

    def __init__(self,
                 num_keypoints: int,
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
        # make_block runs inside the parent's __init__.
        self.se_ratio = se_ratio
        self.dilated_branch = dilated_branch
        if not 0.0 <= feature_grad_scale <= 1.0:
            raise ValueError(
                f'{type(self).__name__}: feature_grad_scale must be in '
                f'[0, 1], got {feature_grad_scale!r}')
        self.feature_grad_scale = float(feature_grad_scale)
        super().__init__(
            num_keypoints,
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

    def forward(self, x: Tensor) -> RFMHourglassOutput:
        out = super().forward(x)
        outermost_first = [stacks[-1] for stacks in reversed(out.levels)]
        features = tuple(
            proj(scale_gradient(f, self.feature_grad_scale))
            for proj, f in zip(self.level_projections, outermost_first))
        return RFMHourglassOutput(*out, features=features)
