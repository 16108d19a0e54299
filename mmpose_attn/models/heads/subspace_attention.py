# Copyright (c) mmpose_attn contributors. All rights reserved.
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType
from ..utils.precision import float32_under_autocast


@float32_under_autocast
def _spatial_softmax(logits: Tensor) -> Tensor:
    """Softmax of each (B, N, H, W) map over its H*W positions, in float32
    under autocast: in bfloat16 a map's ~1/(H*W) values (6e-5 at 128x128)
    keep 3 significant digits and ``1 + A`` in Eq. (9) rounds to 1."""
    return logits.flatten(2).softmax(dim=-1)


@MODELS.register_module()
class SubspaceAttention(BaseModule):
    """Subspace Attention Module (SAM) of `SAMKR`_, Sec. III-B, Eq. (3)-(5),
    (9), after `ULSAM`_ (Saini et al., WACV 2020).

    The input holds ``num_branches`` keypoint regression branches side by side
    (Eq. 1), each of ``channels / num_branches`` channels; every branch is cut
    into ``num_subspaces`` subspaces of ``s`` channels (Eq. 3). Each subspace
    :math:`f_j^i` gets its own spatial attention map (Eq. 9):

    .. math::

        O_j^i = \\mathrm{softmax}(PW^1(\\mathrm{maxpool}(DW^1(f_j^i))))
                \\otimes f_j^i \\oplus f_j^i

    where :math:`DW^1` is a depthwise 1x1 conv, ``maxpool`` a 3x3 max-pool
    (stride 1, padding 1), :math:`PW^1` a pointwise conv with a single filter
    and the softmax runs over all ``H*W`` positions. Outputs of all subspaces
    and branches stay in their input channel slots (the concatenations of
    Eq. 5-6). All ``num_branches * num_subspaces`` subspaces run at once: the
    depthwise conv is a ``groups=channels`` conv, the per-subspace pointwise
    convs are one conv with ``groups=num_branches*num_subspaces`` and there is
    one batched softmax.

    Channel ``c`` belongs to branch ``c // (channels / num_branches)`` and to
    subspace ``c // s`` in the flat order, i.e. ``Chunk`` in Eq. (1) and (3).

    Note:
        - batch size: B
        - branches: k (``num_branches``); subspaces per branch: g
          (``num_subspaces``); channels per subspace: s
          (``subspace_channels``), so ``channels = k * g * s`` (m = k*c,
          c = g*s, Sec. III-C)
        - feature map size: [H, W]

        Input f: (B, channels, H, W). Attention maps
        (:meth:`attention_maps`): (B, k, g, H, W), each summing to 1 over
        its H*W positions. Output O: (B, channels, H, W), every channel in
        its input slot.

    Args:
        channels (int): Total input channels ``k*c`` (``m`` in the paper).
        num_subspaces (int): Subspaces per branch, ``g`` in the paper.
        num_branches (int): Independent regression branches, the keypoint
            number ``k`` in SAMKR, 1 for the single-branch ``c=m`` variant
            of Table 1. Defaults to 1.
        norm_cfg (dict, optional): Norm layer after :math:`DW^1` and
            :math:`PW^1`. Eq. (9) omits it; ULSAM's reference implementation,
            which SAM follows, uses BatchNorm. Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): Activation after each norm (ReLU in ULSAM's
            reference implementation). Defaults to ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    .. _`SAMKR`: https://doi.org/10.1109/IJCNN55064.2022.9891995
    .. _`ULSAM`: https://arxiv.org/abs/2006.15102
    """

    def __init__(self,
                 channels: int,
                 num_subspaces: int,
                 num_branches: int = 1,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 init_cfg: OptConfigType = None):
        super().__init__(init_cfg=init_cfg)
        num_groups = num_branches * num_subspaces
        if num_subspaces < 1 or num_branches < 1 or channels % num_groups:
            raise ValueError(
                f'{self.__class__.__name__}: channels={channels} must split '
                f'evenly into num_branches={num_branches} x '
                f'num_subspaces={num_subspaces} subspaces')
        self.channels = channels
        self.num_subspaces = num_subspaces
        self.num_branches = num_branches
        self.subspace_channels = channels // num_groups

        self.depthwise_conv = ConvModule(
            channels,
            channels,
            kernel_size=1,
            groups=channels,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.pointwise_conv = ConvModule(
            channels,
            num_groups,
            kernel_size=1,
            groups=num_groups,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def attention_maps(self, x: Tensor) -> Tensor:
        """Attention maps of every subspace, softmax-normalised over the
        spatial positions.

        Args:
            x (Tensor): Features in shape (B, channels, H, W).

        Returns:
            Tensor: Maps in shape (B, num_branches, num_subspaces, H, W); each
            map sums to 1 over (H, W). Float32 under autocast.
        """
        B, _, H, W = x.shape
        logits = self.pointwise_conv(self.maxpool(self.depthwise_conv(x)))
        attn = _spatial_softmax(logits)
        return attn.view(B, self.num_branches, self.num_subspaces, H, W)

    def forward(self, x: Tensor) -> Tensor:
        """Apply Eq. (9) to every subspace: O = f * (1 + A).

        Args:
            x (Tensor): Features in shape (B, channels, H, W).

        Returns:
            Tensor: Features in shape (B, channels, H, W).
        """
        B, C, H, W = x.shape
        attn = self.attention_maps(x)
        # A (x) f + f == f * (1 + A): one broadcast op over the s channels;
        # float32 A keeps 1 + A != 1 under autocast (the output is float32).
        groups = x.reshape(B, self.num_branches * self.num_subspaces,
                           self.subspace_channels, H, W)
        out = groups * (attn.view(B, -1, 1, H, W) + 1)
        return out.view(B, C, H, W)
