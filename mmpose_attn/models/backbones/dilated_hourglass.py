# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Stacked (Dilated) Hourglass backbone of `SPCNet`_ (Xiao et al., ECAI 2020).

One class builds both Newell's 8-stack hourglass (the paper's baseline) and
SPCNet's stacked Dilated Hourglass Modules (DHM, Sec. 3.2, Fig. 2(a)):

* ``num_downsamples=4, dilated_blocks=False``: Newell et al. (ECCV 2016),
  four 2x max-poolings per module (64 -> 4 px for a 256 input), plain
  pre-activation bottlenecks (Fig. 3(c)).
* ``num_downsamples=2, dilated_blocks=True, dilation=R``: the DHM. The two
  inner levels keep 16x16 (no pooling / upsampling) and their down-path units
  are dilated bottlenecks (Fig. 3(a)(b)): ``Bottleneck_b`` (1x1 projection
  shortcut) where Newell pools, ``Bottleneck_a`` (identity shortcut) after it.

The backbone predicts nothing: as in MMPose's ``HourglassNet`` + ``CPMHead``,
the per-stack heatmap convs live in the head (``SPCNetHead``, ``CPMHead``,
``HeatmapHead``), and each stack feeds its features, not its heatmaps, into
the next one through a 1x1 conv (``feat_remaps``; configs/spcnet/README.md,
interpretation 9).

Output of ``forward``, a plain tuple (MMPose's contract: what a neck or head
needs is a position in it). With ``S = num_stacks`` and ``L = depth``:

* ``out_levels=False`` (default): ``(y_1, ..., y_S)``, each stack's features
  (hourglass -> units -> conv1x1-BN-ReLU), each ``(B, C, H/4, W/4)``. A stock
  ``CPMHead(num_stages=S)`` reads all of them, a stock ``HeatmapHead`` the
  last one.
* ``out_levels=True``: ``(d_1_1, ..., d_1_S, d_2_1, ..., d_L_S, y_1, ...,
  y_S)``: first the ``L * S`` decoder features, level-major (level ``l``,
  stack ``s``, both 0-based, at position ``l * S + s``; levels innermost
  first: 16, 16, 32, 64 px for the DHM at 256x256, 8, 16, 32, 64 px for
  Newell's module), then the ``S`` stacks' features, i.e. ``out[-S:]``; the
  last entry is still ``y_S``. The decoder features are what the Selective
  Information Module collects (Sec. 3.3, "Information Collection"), e.g.
  ``SelectiveInformationModule(num_stacks=S, num_levels=L)``.

Extension points (used by subclasses such as SADI-Net's ``RFMHourglassNet``):

* :meth:`DilatedHourglassNet.make_block` ``(in_channels, out_channels, kind)``
  builds every residual unit; ``kind`` is ``'plain'`` (conventional
  bottleneck), ``'a'`` (Bottleneck_a) or ``'b'`` (Bottleneck_b). Override it
  to swap the residual unit everywhere (stem, hourglass levels, stack
  outputs); ``self.dilation`` and ``self.norm_cfg`` are set before it is
  first called.
* :meth:`make_stem`, :meth:`make_hourglass`, :meth:`make_stack_output` build
  the pieces; each may be overridden independently.
* :meth:`forward_stacks` runs the stem and the stacks and returns
  ``(stack_feats, levels)`` as lists (``levels[s][l]``: level ``l`` of stack
  ``s``, innermost first); :meth:`forward` only packs them into the tuple
  above, so a subclass can pack its own.

.. _`SPCNet`: https://arxiv.org/abs/2004.05834
"""
import copy
from typing import List, Optional, Tuple

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.models.backbones.base_backbone import BaseBackbone
from mmpose.registry import MODELS


class Bottleneck(BaseModule):
    """Newell's pre-activation residual unit (paper Fig. 3(c)).

    BN-ReLU-conv1x1(C/2) -> BN-ReLU-conv3x3(C/2, dilation) -> BN-ReLU-
    conv1x1(C), plus a shortcut (identity, or a 1x1 conv).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels ``C``.
        dilation (int): Dilation ``R`` of the 3x3 conv (Eq. 1). Defaults to 1.
        projection (bool, optional): 1x1 conv shortcut. ``None`` means only
            when ``in_channels != out_channels`` (Newell). Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 dilation: int = 1,
                 projection: Optional[bool] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if projection is None:
            projection = in_channels != out_channels
        if not projection and in_channels != out_channels:
            raise ValueError(
                f'{type(self).__name__}: an identity shortcut needs '
                f'in_channels == out_channels, got {in_channels} -> '
                f'{out_channels}')
        mid = out_channels // 2
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.dilation = dilation
        self.conv_block = nn.Sequential(
            build_norm_layer(norm_cfg, in_channels)[1],
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, mid, 1),
            build_norm_layer(norm_cfg, mid)[1],
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, padding=dilation, dilation=dilation),
            build_norm_layer(norm_cfg, mid)[1],
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_channels, 1),
        )
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, 1)
            if projection else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        return self.conv_block(x) + self.shortcut(x)


class BottleneckA(Bottleneck):
    """Bottleneck_a (paper Fig. 3(a)): dilated 3x3, identity shortcut."""

    def __init__(self, in_channels, out_channels, dilation=2, **kwargs):
        super().__init__(
            in_channels, out_channels, dilation, projection=False, **kwargs)


class BottleneckB(Bottleneck):
    """Bottleneck_b (paper Fig. 3(b)): dilated 3x3, 1x1 projection
    shortcut."""

    def __init__(self, in_channels, out_channels, dilation=2, **kwargs):
        super().__init__(
            in_channels, out_channels, dilation, projection=True, **kwargs)


class DilatedHourglassModule(BaseModule):
    """One hourglass level, built recursively (Newell's ``hourglass(n, f)``).

    ``up1`` is the skip branch at the input resolution; the low branch is
    ``down -> low1 -> low2 (inner level or innermost unit) -> low3 -> up``.
    At a dilated level ``down``/``up`` are identities, ``low1`` is a
    Bottleneck_b and ``low2``/``low3`` are Bottleneck_a (Sec. 3.2); the skip
    branch stays a conventional bottleneck so each dilated level still merges
    a small- and a large-receptive-field path, as the pooled levels do.

    Args:
        depth (int): Levels below and including this one.
        num_downsamples (int): How many of these levels (outermost first)
            pool by 2; the others are dilated levels.
        channels (int): Feature channels ``f``.
        num_blocks (int): Residual units per branch (Newell's nModules).
        make_block (callable): ``(in_ch, out_ch, kind) -> nn.Module``.
        dilated_blocks (bool): Use Bottleneck_a/_b at non-pooled levels;
            ``False`` keeps conventional bottlenecks everywhere.
    """

    def __init__(self,
                 depth: int,
                 num_downsamples: int,
                 channels: int,
                 num_blocks: int,
                 make_block,
                 dilated_blocks: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        pooled = num_downsamples > 0
        dilated = dilated_blocks and not pooled
        kind_in = 'b' if dilated else 'plain'
        kind = 'a' if dilated else 'plain'

        def branch(first_kind):
            return nn.Sequential(*[
                make_block(channels, channels, first_kind if i == 0 else kind)
                for i in range(num_blocks)
            ])

        self.up1 = branch('plain')
        self.down = nn.MaxPool2d(2, 2) if pooled else nn.Identity()
        self.low1 = branch(kind_in)
        if depth > 1:
            self.low2 = DilatedHourglassModule(depth - 1,
                                               max(num_downsamples - 1, 0),
                                               channels, num_blocks,
                                               make_block, dilated_blocks)
        else:
            self.low2 = branch(kind)
        self.low3 = branch(kind)
        self.up2 = (
            nn.Upsample(scale_factor=2, mode='nearest')
            if pooled else nn.Identity())

    def forward(self, x: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """Returns the merged output and the decoder features of this and
        all inner levels, innermost first."""
        up1 = self.up1(x)
        low = self.low1(self.down(x))
        if isinstance(self.low2, DilatedHourglassModule):
            low, levels = self.low2(low)
        else:
            low, levels = self.low2(low), []
        out = up1 + self.up2(self.low3(low))
        return out, levels + [out]


@MODELS.register_module()
class DilatedHourglassNet(BaseBackbone):
    """Stacked hourglass with Dilated Hourglass Modules (`SPCNet`_, Sec. 3.2).

    Defaults give SPCNet's backbone: 8 stacks, 2 downsamplings (64->32->16),
    two dilated levels at 16x16 with ``R=2``. Newell's baseline is
    ``num_downsamples=4, dilated_blocks=False``. Per stack (Newell):
    ``hourglass -> num_blocks units -> conv1x1-BN-ReLU`` gives the stack's
    features ``y_s``; the next stack's input is the previous input plus a 1x1
    conv remap of ``y_s`` (Newell also adds a remap of the stack's heatmap;
    here the heatmaps are the head's, see the module docstring).

    Note:
        - B: batch size; S: ``num_stacks``; L: ``depth`` (decoder levels)
        - C: ``feat_channels``; [H, W]: input size (divisible by
          ``4 * 2 ** num_downsamples``)

        Input: images, (B, in_channels, H, W). Output: the tuple of the
        module docstring: ``S`` tensors (B, C, H/4, W/4), or with
        ``out_levels`` the ``L * S`` decoder features (B, C, h_l, w_l) first.

    Args:
        num_stacks (int): Stacked modules (paper: 8). Defaults to 8.
        depth (int): Levels per module (Newell: 4). Defaults to 4.
        num_downsamples (int): Pooled levels per module (DHM: 2; Newell: 4).
            Defaults to 2.
        dilation (int): ``R`` of Bottleneck_a/_b (Eq. 1, Table 1). Defaults
            to 2.
        dilated_blocks (bool): Bottleneck_a/_b at non-pooled levels (DHM);
            ``False`` for conventional bottlenecks everywhere. Defaults to
            True.
        feat_channels (int): Hourglass width ``f`` (Newell: 256). Defaults to
            256.
        stem_channels (tuple[int, int]): Stem widths (Newell: 64, 128).
            Defaults to ``(64, 128)``.
        num_blocks (int): Residual units per branch (Newell's nModules: 1).
            Defaults to 1.
        out_levels (bool): Put the decoder features of every level and stack
            before the stacks' features (for the Selective Information
            Module). Defaults to False.
        in_channels (int): Image channels. Defaults to 3.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Initialization config. Defaults to None
            (PyTorch's default init, as Newell's PyTorch ports).

    Example:
        >>> import torch
        >>> net = DilatedHourglassNet(num_stacks=2, out_levels=True)
        >>> out = net(torch.rand(1, 3, 256, 256))
        >>> len(out)  # 4 levels x 2 stacks, then 2 stack features
        10
        >>> [tuple(out[2 * level].shape[-2:]) for level in range(4)]
        [(16, 16), (16, 16), (32, 32), (64, 64)]
        >>> tuple(out[-1].shape)
        (1, 256, 64, 64)

    .. _`SPCNet`: https://arxiv.org/abs/2004.05834
    """

    def __init__(self,
                 num_stacks: int = 8,
                 depth: int = 4,
                 num_downsamples: int = 2,
                 dilation: int = 2,
                 dilated_blocks: bool = True,
                 feat_channels: int = 256,
                 stem_channels: Tuple[int, int] = (64, 128),
                 num_blocks: int = 1,
                 out_levels: bool = False,
                 in_channels: int = 3,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not 0 <= num_downsamples <= depth:
            raise ValueError(f'{type(self).__name__}: num_downsamples '
                             f'({num_downsamples}) must be in [0, depth='
                             f'{depth}]')
        if num_stacks < 1 or dilation < 1 or num_blocks < 1:
            raise ValueError(f'{type(self).__name__}: num_stacks, dilation '
                             'and num_blocks must be >= 1')
        self.num_stacks = num_stacks
        self.depth = depth
        self.num_downsamples = num_downsamples
        self.dilation = dilation
        self.dilated_blocks = dilated_blocks
        self.feat_channels = feat_channels
        self.stem_channels = tuple(stem_channels)
        self.num_blocks = num_blocks
        self.out_levels = out_levels
        self.in_channels = in_channels
        self.norm_cfg = copy.deepcopy(norm_cfg)

        self.stem = self.make_stem()
        self.hourglasses = nn.ModuleList(
            self.make_hourglass() for _ in range(num_stacks))
        self.stack_outputs = nn.ModuleList(
            self.make_stack_output() for _ in range(num_stacks))
        self.feat_remaps = nn.ModuleList(
            nn.Conv2d(feat_channels, feat_channels, 1)
            for _ in range(num_stacks - 1))

    def make_block(self, in_channels: int, out_channels: int,
                   kind: str) -> nn.Module:
        """Residual unit factory; ``kind`` in ``{'plain', 'a', 'b'}``."""
        if kind == 'plain':
            return Bottleneck(in_channels, out_channels,
                              norm_cfg=self.norm_cfg)
        if kind == 'a':
            return BottleneckA(in_channels, out_channels, self.dilation,
                               norm_cfg=self.norm_cfg)
        if kind == 'b':
            return BottleneckB(in_channels, out_channels, self.dilation,
                               norm_cfg=self.norm_cfg)
        raise ValueError(f'{type(self).__name__}: unknown block kind {kind!r}'
                         " (expected 'plain', 'a' or 'b')")

    def make_stem(self) -> nn.Module:
        """Newell's stem: 7x7/2 conv-BN-ReLU, unit, maxpool, 2 units (/4)."""
        c1, c2 = self.stem_channels
        return nn.Sequential(
            nn.Conv2d(self.in_channels, c1, 7, stride=2, padding=3),
            build_norm_layer(self.norm_cfg, c1)[1],
            nn.ReLU(inplace=True),
            self.make_block(c1, c2, 'plain'),
            nn.MaxPool2d(2, 2),
            self.make_block(c2, c2, 'plain'),
            self.make_block(c2, self.feat_channels, 'plain'),
        )

    def make_hourglass(self) -> nn.Module:
        """One (Dilated) Hourglass Module; ``forward(x) -> (out, levels)``."""
        return DilatedHourglassModule(self.depth, self.num_downsamples,
                                      self.feat_channels, self.num_blocks,
                                      self.make_block, self.dilated_blocks)

    def make_stack_output(self) -> nn.Module:
        """Units + conv1x1-BN-ReLU after each hourglass (Newell's ``ll``)."""
        f = self.feat_channels
        return nn.Sequential(
            *[self.make_block(f, f, 'plain') for _ in range(self.num_blocks)],
            nn.Conv2d(f, f, 1),
            build_norm_layer(self.norm_cfg, f)[1],
            nn.ReLU(inplace=True),
        )

    def forward_stacks(self,
                       x: Tensor) -> Tuple[List[Tensor], List[List[Tensor]]]:
        """Run the stem and the stacks.

        Args:
            x (Tensor): Images, (B, in_channels, H, W).

        Returns:
            tuple:
            - stack_feats (list[Tensor]): ``y_1..y_S``, each (B, C, H/4, W/4).
            - levels (list[list[Tensor]]): ``levels[s][l]``, the decoder
              feature of level ``l`` (innermost first) of stack ``s``.
        """
        x = self.stem(x)
        stack_feats, levels = [], []
        for i in range(self.num_stacks):
            out, stack_levels = self.hourglasses[i](x)
            feat = self.stack_outputs[i](out)
            stack_feats.append(feat)
            levels.append(stack_levels)
            if i < self.num_stacks - 1:
                x = x + self.feat_remaps[i](feat)
        return stack_feats, levels

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward the stacks.

        Args:
            x (Tensor): Images, (B, in_channels, H, W).

        Returns:
            tuple[Tensor]: ``(y_1, ..., y_S)``; with ``out_levels`` the
            ``L * S`` decoder features, level-major, before them (see the
            module docstring).
        """
        stack_feats, levels = self.forward_stacks(x)
        if not self.out_levels:
            return tuple(stack_feats)
        level_major = (feat for level in zip(*levels) for feat in level)
        return (*level_major, *stack_feats)
