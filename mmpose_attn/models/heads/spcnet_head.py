# Copyright (c) mmpose_attn contributors. All rights reserved.
"""SPCNet's supervision head (`SPCNet`_, Xiao et al., ECAI 2020, Sec. 3.4).

.. _`SPCNet`: https://arxiv.org/abs/2004.05834
"""
from typing import List, Sequence

import torch
from torch import Tensor

from mmpose.models.heads import CPMHead
from mmpose.registry import MODELS
from mmpose.utils.typing import MultiConfig, OptConfigType


@MODELS.register_module()
class SPCNetHead(CPMHead):
    """Per-stack heatmaps + one heatmap from the SIM's fused feature
    (`SPCNet`_, Sec. 3.4, Eqs. 6-7).

    A :class:`CPMHead` with one 1x1 conv per supervised feature
    (``multi_final_layers``): one per stack of the backbone (the 8
    auxiliary supervisions) and, with ``use_fused``, one on the Selective
    Information Module's ``F`` (Eq. 4). :class:`CPMHead` does the rest: the
    ``num_stacks + 1`` MSE terms of Eq. 6 are summed (``loss_kpt``), and
    inference, flip test included, decodes the last heatmap, i.e. the SIM's
    (Eq. 7, argmax through the codec). With ``use_fused=False`` it is the
    stacked-hourglass head (the baseline and the DHM-only ablation): it
    equals ``CPMHead(num_stages=num_stacks, deconv_out_channels=None)``, and
    the last stack's heatmap is decoded.

    Note:
        - B: batch size; S: ``num_stacks``; K: ``out_channels``
        - C: ``in_channels``; [h, w]: heatmap size

        Input ``feats`` (tuple), by position: ``feats[s]`` for ``s < S`` the
        stacks' features (B, C, h, w) (``DilatedHourglassNet``'s output, or
        what the SIM passes through), then with ``use_fused`` ``feats[S]`` =
        ``F`` (B, C, h, w) (``SelectiveInformationModule``'s last entry).
        Output: ``S (+ 1)`` heatmaps (B, K, h, w), the one to decode last.

    Args:
        in_channels (int): Channels of the stacks' features and of ``F``
            (256).
        out_channels (int): Number of keypoints ``K``.
        num_stacks (int): Stacks of the backbone (8). Defaults to 8.
        use_fused (bool): Predict and supervise the SIM heatmap. Defaults to
            True.
        loss (dict | list[dict]): Loss per supervised heatmap (``num_stacks``
            + ``use_fused`` of them). Defaults to ``KeypointMSELoss`` (Eq. 6;
            a mean instead of the paper's 1/2-sum, a constant factor).
        decoder (dict, optional): Keypoint codec. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to
            :class:`CPMHead`'s (Normal, std 0.001).

    .. _`SPCNet`: https://arxiv.org/abs/2004.05834
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_stacks: int = 8,
                 use_fused: bool = True,
                 loss: MultiConfig = dict(
                     type='KeypointMSELoss', use_target_weight=True),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None):
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            num_stages=num_stacks + int(use_fused),
            deconv_out_channels=None,
            final_layer=dict(kernel_size=1),
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg)
        self.num_stacks = num_stacks
        self.use_fused = use_fused

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """Predict one heatmap per input feature.

        Args:
            feats (Sequence[Tensor]): The stacks' features, then ``F`` when
                ``use_fused`` (see the class Note), each (B, C, h, w).

        Returns:
            list[Tensor]: The supervised heatmaps (B, K, h, w), the one to
            decode last; float32 under autocast.
        """
        if len(feats) != self.num_stages:
            what = ('the stacks\' features then the SIM\'s F (neck '
                    'SelectiveInformationModule)' if self.use_fused else
                    'the stacks\' features')
            raise ValueError(
                f'{type(self).__name__}: expected {self.num_stages} '
                f'features ({what}), got {len(feats)}')
        heatmaps = super().forward(feats)
        if torch.is_autocast_enabled(heatmaps[-1].device.type):
            # --amp: the MSE runs in float32 under autocast anyway, and
            # CPMHead's accuracy goes through numpy, which has no bfloat16
            heatmaps = [h.float() for h in heatmaps]
        return heatmaps
