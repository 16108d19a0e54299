"""SPCNet's supervision head (Xiao et al., ECAI 2020, Sec. 3.4)."""
from typing import List, Optional

import torch
from torch import Tensor, nn

from mmpose.models.heads import CPMHead
from mmpose.registry import MODELS
from mmpose.utils.typing import MultiConfig, OptConfigType


@MODELS.register_module()
class SPCNetHead(CPMHead):
    """Per-stack heatmaps + one heatmap from the SIM's fused feature.

    The stacked backbone already predicts one heatmap per stack (they feed
    the next stack, as in Newell's hourglass); this head appends a 1x1 conv
    on the Selective Information Module's ``F`` (Eq. 4) and reuses
    :class:`CPMHead` for everything else: the 8 auxiliary + 1 SIM losses of
    Eq. 6 are summed (``loss_kpt``), and inference, flip test included,
    decodes the last heatmap, i.e. the SIM's (Eq. 7, argmax through the
    codec).

    With ``use_fused=False`` it is the plain multi-stack hourglass head (the
    baseline and the DHM-only ablation): the input is the backbone output and
    the last stack's heatmap is decoded.

    Args:
        in_channels (int): Channels of ``F`` (256).
        out_channels (int): Number of keypoints ``K``.
        num_stacks (int): Stacks of the backbone (8).
        use_fused (bool): Predict and supervise the SIM heatmap. Default:
            True.
        loss (dict | list[dict]): Loss per supervised heatmap (``num_stacks``
            + ``use_fused`` of them). Default: ``KeypointMSELoss`` (Eq. 6; a
            mean instead of the paper's 1/2-sum, a constant factor).
        decoder (dict, optional): Keypoint codec.
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
            final_layer=None,
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg)
        self.num_stacks = num_stacks
        self.use_fused = use_fused
        self.final_layer: Optional[nn.Module] = (
            nn.Conv2d(in_channels, out_channels, 1) if use_fused else None)

    def forward(self, feats) -> List[Tensor]:
        """``feats``: backbone/neck output with ``heatmaps`` (per stack) and,
        when ``use_fused``, ``fused``. Returns all supervised heatmaps, the
        one to decode last; float32 under autocast."""
        heatmaps = list(getattr(feats, 'heatmaps', ()))
        if len(heatmaps) != self.num_stacks:
            raise ValueError(
                f'{type(self).__name__}: expected {self.num_stacks} stack '
                f'heatmaps in the backbone/neck output, got {len(heatmaps)} '
                f'(input type {type(feats).__name__})')
        if self.use_fused:
            if getattr(feats, 'fused', None) is None:
                raise ValueError(
                    f'{type(self).__name__}: use_fused=True needs a neck '
                    'output with `fused` (SelectiveInformationModule), got '
                    f'{type(feats).__name__}')
            heatmaps.append(self.final_layer(feats.fused))
        if torch.is_autocast_enabled(heatmaps[-1].device.type):
            # --amp: the MSE runs in float32 under autocast anyway, and
            # CPMHead's accuracy goes through numpy, which has no bfloat16
            heatmaps = [h.float() for h in heatmaps]
        return heatmaps
