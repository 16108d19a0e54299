# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Selective Information Module of `SPCNet`_ (Xiao et al., ECAI 2020,
Sec. 3.3).

.. _`SPCNet`: https://arxiv.org/abs/2004.05834
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.registry import MODELS
from ..utils import float32_under_autocast


@float32_under_autocast
def selection_weights(logits: Tensor) -> Tensor:
    """``A_n = exp(M_n) / sum_m exp(M_m)`` per pixel (Eqs. 2-3) over the
    ``L`` channels of ``logits`` ``(B, L, H, W)``.

    In float32 under autocast (``--amp``): CUDA's autocast already runs
    softmax in float32, but CPU's bfloat16 autocast does not, and there the
    weights would sum to 1 only within ~4e-3.
    """
    return logits.softmax(dim=1)


@MODELS.register_module()
class SelectiveInformationModule(BaseModule):
    """Selective Information Module (SIM) of `SPCNet`_, Sec. 3.3, Fig. 4.

    Information Collection (IC): for every level, the same-level features of
    all stacks are concatenated (``num_stacks * in_channels``, 2048 in the
    paper), reduced by conv1x1-BN-ReLU to ``out_channels`` (256) and
    upsampled to the largest level's size (64x64): ``X_1..X_L``.

    Information Distribution (ID, ``fusion='attention'``): ``M`` = conv1x1
    (``sum_n X_n``) with ``L`` channels, ``A = softmax_n(M)`` per pixel
    (Eqs. 2-3), ``F = sum_n A_n * X_n`` (Eq. 4).

    Table 2 ablations: ``fusion='sum'`` gives ``F = sum_n X_n``;
    ``fusion='concat'`` gives ``F = conv1x1(concat(X_1..X_L))`` back to
    ``out_channels``.

    Any backbone whose output starts with the level features works: SPCNet's
    ``DilatedHourglassNet(out_levels=True)`` (``num_stacks`` stacks, levels
    innermost first), or e.g. MMPose's ``ResNet(out_indices=(0, 1, 2, 3))``
    or ``HRNet`` with ``multiscale_output`` (one "stack", ``num_stacks=1``,
    per-level ``in_channels``, finest level first).

    Note:
        - B: batch size; S: ``num_stacks``; L: ``num_levels``
        - C_l: channels of level ``l`` (``in_channels``); C:
          ``out_channels``
        - [h_l, w_l]: size of level ``l``; [H, W]: the largest of them

        Input ``feats`` (tuple): its first ``L * S`` entries are the level
        features, level-major: ``feats[l * S + s]`` is level ``l`` of stack
        ``s`` (0-based), (B, C_l, h_l, w_l). The entries after them are
        passed through (``DilatedHourglassNet``: the S stacks' features,
        which ``SPCNetHead`` supervises).

        Output (tuple): ``(*feats[L * S:], F)``, ``F`` (Eq. 4) last, (B, C,
        H, W), where ``SPCNetHead`` and a stock ``HeatmapHead`` read it. The
        weights ``A`` are not in the output: :meth:`level_weights` computes
        them (the SIM pictures, ``mmpose_attn.visualization.sim_weights``).

    Args:
        in_channels (int | Sequence[int]): Channels of each level's features
            (256), or one number per level. Defaults to 256.
        num_stacks (int): Stacks whose same-level features are concatenated
            (8). Defaults to 8.
        num_levels (int): Levels ``L`` (4: 16, 16, 32, 64 px). Defaults to 4.
        out_channels (int): Channels of ``X_n`` and ``F`` (256). Defaults to
            256.
        fusion (str): ``'attention'`` (SIM), ``'sum'`` or ``'concat'``.
            Defaults to ``'attention'``.
        upsample_mode (str): Interpolation of ``X_n`` to the largest size;
            ``'nearest'`` as the hourglass decoder. Defaults to ``'nearest'``.
        norm_cfg (dict): Norm config of the IC convs. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialization config. Defaults to None
            (PyTorch's default init).

    Example:
        >>> import torch
        >>> sim = SelectiveInformationModule(
        ...     in_channels=8, num_stacks=2, num_levels=2, out_channels=4)
        >>> levels = [torch.rand(1, 8, s, s) for s in (8, 8, 16, 16)]
        >>> stack_feats = [torch.rand(1, 8, 16, 16) for _ in range(2)]
        >>> out = sim((*levels, *stack_feats))
        >>> len(out), tuple(out[-1].shape)
        (3, (1, 4, 16, 16))

    .. _`SPCNet`: https://arxiv.org/abs/2004.05834
    """

    fusions = ('attention', 'sum', 'concat')

    def __init__(self,
                 in_channels: Union[int, Sequence[int]] = 256,
                 num_stacks: int = 8,
                 num_levels: int = 4,
                 out_channels: int = 256,
                 fusion: str = 'attention',
                 upsample_mode: str = 'nearest',
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if fusion not in self.fusions:
            raise ValueError(f'{type(self).__name__}: fusion must be one of '
                             f'{self.fusions}, got {fusion!r}')
        if isinstance(in_channels, int):
            in_channels = (in_channels, ) * num_levels
        if len(in_channels) != num_levels:
            raise ValueError(
                f'{type(self).__name__}: {len(in_channels)} in_channels for '
                f'{num_levels} levels')
        self.in_channels = tuple(in_channels)
        self.num_stacks = num_stacks
        self.num_levels = num_levels
        self.out_channels = out_channels
        self.fusion = fusion
        self.upsample_mode = upsample_mode

        self.collect_convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c * num_stacks, out_channels, 1, bias=False),
                build_norm_layer(norm_cfg, out_channels)[1],
                nn.ReLU(inplace=True)) for c in self.in_channels)
        if fusion == 'attention':
            self.squeeze = nn.Conv2d(out_channels, num_levels, 1)
        elif fusion == 'concat':
            self.squeeze = nn.Conv2d(out_channels * num_levels, out_channels,
                                     1)
        else:
            self.squeeze = None

    def split(self, feats: Sequence[Tensor]
              ) -> Tuple[Tuple[Tuple[Tensor, ...], ...], Tuple[Tensor, ...]]:
        """Split the input tuple at ``L * S``.

        Args:
            feats (Sequence[Tensor]): The input (see the class Note).

        Returns:
            tuple:
            - levels: ``levels[l][s]``, level ``l`` of stack ``s``.
            - rest: the entries after the level features.
        """
        num = self.num_levels * self.num_stacks
        if not isinstance(feats, (tuple, list)) or len(feats) < num:
            raise ValueError(
                f'{type(self).__name__} needs {self.num_levels} levels x '
                f'{self.num_stacks} stacks = {num} level features first in '
                f'its input, got {len(feats)} tensors (a stacked hourglass: '
                'DilatedHourglassNet(out_levels=True); check num_levels/'
                "num_stacks against the backbone's depth/num_stacks)")
        s = self.num_stacks
        levels = tuple(
            tuple(feats[i * s:(i + 1) * s]) for i in range(self.num_levels))
        return levels, tuple(feats[num:])

    def collect(self, levels: Sequence[Sequence[Tensor]]) -> Tensor:
        """Information Collection.

        Args:
            levels (Sequence[Sequence[Tensor]]): ``levels[l][s]``, (B, C_l,
                h_l, w_l).

        Returns:
            Tensor: ``X_1..X_L`` stacked, (B, L, C, H, W).
        """
        size = max((lv[0].shape[-2:] for lv in levels),
                   key=lambda s: s[0] * s[1])
        xs = []
        for (conv, norm, act), c, feats in zip(self.collect_convs,
                                               self.in_channels, levels):
            # conv1x1 of the stacks' concatenation == sum of per-stack 1x1
            # convs; the sum never materialises (nor, in training, saves for
            # backward) the num_stacks * in_channels concatenation
            weights = conv.weight.split(c, dim=1)
            x = act(norm(sum(F.conv2d(f, w) for f, w in zip(feats, weights))))
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode=self.upsample_mode)
            xs.append(x)
        return torch.stack(xs, dim=1)

    def distribute(self, xs: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Information Distribution (or the Table 2 ablation).

        Args:
            xs (Tensor): ``X_1..X_L``, (B, L, C, H, W).

        Returns:
            tuple: ``F`` (B, C, H, W) and, for ``'attention'``, ``A`` (B, L,
            H, W), else None.
        """
        if self.fusion == 'sum':
            return xs.sum(dim=1), None
        if self.fusion == 'concat':
            return self.squeeze(xs.flatten(1, 2)), None
        weights = selection_weights(self.squeeze(xs.sum(dim=1)))
        # Eq. 4 at the features' precision: under autocast einsum's product
        # runs in the low precision whatever the weights' dtype
        return torch.einsum('blhw,blchw->bchw', weights, xs), weights

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Fuse the level features.

        Args:
            feats (Sequence[Tensor]): Level features first (see the class
                Note).

        Returns:
            tuple[Tensor]: ``(*feats[L * S:], F)``, F (B, C, H, W).
        """
        levels, rest = self.split(feats)
        fused, _ = self.distribute(self.collect(levels))
        return (*rest, fused)

    def level_weights(self, feats: Sequence[Tensor]) -> Tensor:
        """The selection weights of the input (``fusion='attention'``).

        Args:
            feats (Sequence[Tensor]): As :meth:`forward`'s.

        Returns:
            Tensor: ``A_1..A_L`` (Eq. 2), (B, L, H, W); they sum to 1 at
            every pixel (Eq. 3).
        """
        if self.fusion != 'attention':
            raise ValueError(
                f"{type(self).__name__}(fusion={self.fusion!r}) has no "
                "selection weights: only fusion='attention' does")
        levels, _ = self.split(feats)
        return self.distribute(self.collect(levels))[1]
