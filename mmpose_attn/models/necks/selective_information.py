"""Selective Information Module of SPCNet (Xiao et al., ECAI 2020, Sec. 3.3).
"""
from typing import NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.registry import MODELS
from ..utils import float32_under_autocast


class SIMOutput(NamedTuple):
    """Output of :class:`SelectiveInformationModule`.

    ``heatmaps``: the backbone's per-stack heatmaps, passed through for the
    intermediate supervision; ``fused``: ``F`` of Eq. 4, ``(B, C, H, W)``;
    ``weights``: ``A_1..A_4`` of Eq. 2 stacked as ``(B, L, H, W)`` (``None``
    for the ``'sum'``/``'concat'`` ablations).
    """
    heatmaps: Tuple[Tensor, ...]
    fused: Tensor
    weights: Optional[Tensor]


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
    """Selective Information Module (SIM, Sec. 3.3, Fig. 4).

    Information Collection (IC): for every decoder level, the same-level
    features of all stacks are concatenated (``num_stacks * in_channels``,
    2048 in the paper), reduced by conv1x1-BN-ReLU to ``out_channels`` (256)
    and upsampled to the finest level's size (64x64): ``X_1..X_L``.

    Information Distribution (ID, ``fusion='attention'``): ``M`` = conv1x1
    (``sum_n X_n``) with ``L`` channels, ``A = softmax_n(M)`` per pixel
    (Eqs. 2-3), ``F = sum_n A_n * X_n`` (Eq. 4).

    Table 2 ablations: ``fusion='sum'`` gives ``F = sum_n X_n``;
    ``fusion='concat'`` gives ``F = conv1x1(concat(X_1..X_L))`` back to
    ``out_channels``.

    Input: the backbone's :class:`HourglassOutput` (anything with
    ``heatmaps`` and ``levels``, ``levels[l][s]`` the level-``l`` decoder
    feature of stack ``s``, innermost level first). Output: :class:`SIMOutput`.

    Args:
        in_channels (int): Channels of each decoder feature (256).
        num_stacks (int): Stacks whose features are concatenated (8).
        num_levels (int): Decoder levels ``L`` (4: 16, 16, 32, 64 px).
        out_channels (int): Channels of ``X_n`` and ``F`` (256).
        fusion (str): ``'attention'`` (SIM), ``'sum'`` or ``'concat'``.
        upsample_mode (str): Interpolation of ``X_n`` to the finest size;
            ``'nearest'`` as the hourglass decoder. Default: ``'nearest'``.
        norm_cfg (dict): Norm config of the IC convs. Default: BN.
    """

    fusions = ('attention', 'sum', 'concat')

    def __init__(self,
                 in_channels: int = 256,
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
        self.in_channels = in_channels
        self.num_stacks = num_stacks
        self.num_levels = num_levels
        self.out_channels = out_channels
        self.fusion = fusion
        self.upsample_mode = upsample_mode

        self.collect_convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(in_channels * num_stacks, out_channels, 1,
                          bias=False),
                build_norm_layer(norm_cfg, out_channels)[1],
                nn.ReLU(inplace=True)) for _ in range(num_levels))
        if fusion == 'attention':
            self.squeeze = nn.Conv2d(out_channels, num_levels, 1)
        elif fusion == 'concat':
            self.squeeze = nn.Conv2d(out_channels * num_levels, out_channels,
                                     1)
        else:
            self.squeeze = None

    def collect(self, levels: Sequence[Sequence[Tensor]]) -> Tensor:
        """Information Collection: ``(B, L, C, H, W)`` stack of X_1..X_L."""
        if len(levels) != self.num_levels or any(
                len(lv) != self.num_stacks for lv in levels):
            raise ValueError(
                f'{type(self).__name__}: expected {self.num_levels} levels of '
                f'{self.num_stacks} stack features, got '
                f'{[len(lv) for lv in levels]} (check num_levels/num_stacks '
                'against the backbone\'s depth/num_stacks)')
        size = levels[-1][0].shape[-2:]
        xs = []
        for (conv, norm, act), feats in zip(self.collect_convs, levels):
            # conv1x1 of the stacks' concatenation == sum of per-stack 1x1
            # convs; the sum never materialises (nor, in training, saves for
            # backward) the num_stacks * in_channels concatenation
            weights = conv.weight.split(self.in_channels, dim=1)
            x = act(norm(sum(F.conv2d(f, w) for f, w in zip(feats, weights))))
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode=self.upsample_mode)
            xs.append(x)
        return torch.stack(xs, dim=1)

    def distribute(self, xs: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Fuse ``(B, L, C, H, W)`` into ``F`` (and ``A`` for attention)."""
        if self.fusion == 'sum':
            return xs.sum(dim=1), None
        if self.fusion == 'concat':
            return self.squeeze(xs.flatten(1, 2)), None
        weights = selection_weights(self.squeeze(xs.sum(dim=1)))
        # Eq. 4 at the features' precision: under autocast einsum's product
        # runs in the low precision whatever the weights' dtype
        return torch.einsum('blhw,blchw->bchw', weights, xs), weights

    def forward(self, inputs) -> SIMOutput:
        if not (hasattr(inputs, 'levels') and hasattr(inputs, 'heatmaps')):
            raise TypeError(
                f'{type(self).__name__} needs the per-level decoder features '
                'of a stacked hourglass (`levels` and `heatmaps`, e.g. '
                f'DilatedHourglassNet), got {type(inputs).__name__}')
        fused, weights = self.distribute(self.collect(inputs.levels))
        return SIMOutput(
            heatmaps=tuple(inputs.heatmaps), fused=fused, weights=weights)
