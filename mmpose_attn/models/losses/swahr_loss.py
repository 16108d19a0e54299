# Copyright (c) mmpose_attn contributors. All rights reserved.
from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from mmpose.models.losses import KeypointMSELoss
from mmpose.registry import MODELS
from ..utils.precision import float32_under_autocast


@MODELS.register_module()
class WeightAdaptiveHeatmapLoss(KeypointMSELoss):
    """Weight-adaptive heatmap regression loss of `Rethinking the Heatmap
    Regression for Bottom-up Human Pose Estimation` (SWAHR, Luo et al., CVPR
    2021, "weight-adaptive heatmap regression"), which SAMKR uses for its
    HRNet-W32 models (SAMKR Sec. III-A and IV-A).

    Each pixel's squared error is weighted by

    .. math::

        W = H^{\\gamma} \\cdot |1 - P| + (1 - H^{\\gamma}) \\cdot |P|

    with prediction :math:`P`, target :math:`H` and :math:`\\gamma=0.01`, so
    that the many easy background pixels (:math:`H=0`, small :math:`P`) stop
    dominating the loss. The weight is not detached, as in SWAHR's code.
    Masking, target weights and the mean reduction are those of
    :class:`KeypointMSELoss` (DEKR's heatmap loss in MMPose), so this is a
    drop-in replacement: ``loss_weight`` keeps its meaning.

    Under autocast (``--amp``) the loss is computed in float32.

    Only the weight-adaptive half of SWAHR is implemented; SAMKR's heatmaps
    stay the fixed-sigma SPR targets of DEKR (no scale-adaptive sigma).

    Args:
        gamma (float): Exponent :math:`\\gamma` softening the target into the
            foreground weight. Defaults to 0.01.
        use_target_weight (bool): As :class:`KeypointMSELoss`. Defaults to
            ``False``.
        skip_empty_channel (bool): As :class:`KeypointMSELoss`. Defaults to
            ``False``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 gamma: float = 0.01,
                 use_target_weight: bool = False,
                 skip_empty_channel: bool = False,
                 loss_weight: float = 1.):
        super().__init__(
            use_target_weight=use_target_weight,
            skip_empty_channel=skip_empty_channel,
            loss_weight=loss_weight)
        if gamma <= 0:
            raise ValueError(f'{self.__class__.__name__}: gamma must be > 0, '
                             f'got {gamma}')
        self.gamma = gamma

    @float32_under_autocast
    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weights: Optional[Tensor] = None,
                mask: Optional[Tensor] = None) -> Tensor:
        """Forward function of loss.

        Args:
            output (Tensor): Predicted heatmaps in shape [B, K, H, W].
            target (Tensor): Target heatmaps in [0, 1], shape [B, K, H, W].
            target_weights (Tensor, optional): Keypoint-wise [B, K] or
                pixel-wise [B, K, H, W] weights.
            mask (Tensor, optional): Valid-pixel mask, [B, K, H, W] or
                [B, 1, H, W].

        Returns:
            Tensor: The loss.
        """
        soft_target = target.clamp(min=0).pow(self.gamma)
        weight = soft_target * (1 - output).abs() + \
            (1 - soft_target) * output.abs()
        loss = F.mse_loss(output, target, reduction='none') * weight

        _mask = self._get_mask(target, target_weights, mask)
        if _mask is not None:
            loss = loss * _mask
        return loss.mean() * self.loss_weight
