"""Heatmap head of SG-HRNet with segmentation supervision.

Tang et al., "Segmentation Guided Attention Networks for Human Pose
Estimation", Traitement du Signal 41(5), 2024, Sec. 3.3-3.4 (Eq. 5-7).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.heads import HeatmapHead
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from ..utils import float32_under_autocast


@MODELS.register_module()
class SGHeatmapHead(HeatmapHead):
    """Keypoint heatmaps by a 1x1 convolution on the final guided features,
    trained with ``L = w_s(t) * lambda * L_seg + w_k(t) * L_key`` (Eq. 7).

    Input contract: :class:`SGHRNet` with ``with_seg_logits=True`` returns
    a plain tuple ``(seg_logits, *features)``: the logits of the S maps
    (B, S, H, W) first, then HRNet's features. Prediction is
    :class:`HeatmapHead`'s, from ``feats[-1]`` alone (as every MMPose head
    reads it, so a stock ``HeatmapHead`` also works on that tuple); the loss
    also reads the maps from ``feats[0]``.

    The loss module receives ``dict(kpt=(heatmaps, gt_heatmaps,
    keypoint_weights), seg=(seg_logits, gt_seg_maps))``, where
    ``gt_seg_maps`` is the codec's ``seg_map`` repeated for each of the S
    stage maps; with a mean-reduced BCE this is Eq. 6's average over stages.
    The default is the paper's: :class:`DWALoss` over ``KeypointMSELoss``
    (Eq. 5) and MMPose's ``BCELoss`` on logits (``use_sigmoid=False``:
    ``binary_cross_entropy_with_logits``, Eq. 6 without the saturation of
    ``log(sigmoid)``) with ``loss_weight = lambda = 0.002``. The losses run
    in float32 under autocast (mixed-precision training).

    Note:
        - B: batch size; K: ``out_channels``; S: number of maps (4)
        - C: ``in_channels``; [H, W]: heatmap size, a quarter of the input

        Input ``feats``, a plain tuple read by position: for :meth:`loss`,
        ``feats[0]`` the map logits (B, S, H, W) and ``feats[1:]`` HRNet's
        features, the last (B, C, H, W) (:class:`SGHRNet` with
        ``with_seg_logits=True``); :meth:`forward` and :meth:`predict` read
        ``feats[-1]`` only. Output of :meth:`forward`: heatmaps
        (B, K, H, W).

    Args:
        in_channels (int | Sequence[int]): Channels of the final features.
        out_channels (int): Number of keypoints.
        deconv_out_channels (Sequence[int], optional): As HeatmapHead; the
            paper has none. Defaults to ``None``.
        loss (dict): Config of a loss taking the task dict above and
            returning a dict of losses. Defaults to the paper's DWALoss.
        decoder (dict, optional): Codec used for decoding, normally
            :class:`SegmentationHeatmap`.
        **kwargs: Other :class:`HeatmapHead` arguments.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 out_channels: int,
                 deconv_out_channels: Optional[Sequence[int]] = None,
                 loss: ConfigType = dict(
                     type='DWALoss',
                     losses=dict(
                         kpt=dict(
                             type='KeypointMSELoss', use_target_weight=True),
                         seg=dict(type='BCELoss', loss_weight=0.002))),
                 decoder: OptConfigType = None,
                 **kwargs):
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            deconv_out_channels=deconv_out_channels,
            loss=loss,
            decoder=decoder,
            **kwargs)

    def split_seg_logits(self, feats: Sequence[Tensor]
                         ) -> Tuple[Tensor, Tuple[Tensor, ...]]:
        """Split SGHRNet's ``(seg_logits, *features)`` tuple.

        Args:
            feats (Sequence[Tensor]): The backbone's output.

        Returns:
            tuple: the maps' logits (B, S, H, W) and the features.
        """
        if not (len(feats) >= 2 and feats[0].dim() == 4
                and feats[0].shape[-2:] == feats[1].shape[-2:]):
            raise TypeError(
                f'{type(self).__name__}: the features carry no segmentation '
                'maps; the backbone must be SGHRNet with '
                '`with_seg_logits=True` (model.backbone.with_seg_logits), '
                'with no neck in between; its output is (seg_logits, '
                '*features), the logits at the resolution of the first '
                'feature')
        return feats[0], tuple(feats[1:])

    def loss(self,
             feats: Sequence[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """Keypoint and segmentation losses (Eq. 5-7) plus ``acc_pose``.

        Args:
            feats (Sequence[Tensor]): ``(seg_logits, *features)`` of
                :class:`SGHRNet` (``with_seg_logits=True``): the map logits
                (B, S, H, W), then HRNet's features.
            batch_data_samples (list[PoseDataSample]): With
                ``gt_fields.heatmaps`` (K, H, W), ``gt_fields.seg_map``
                (1, H, W) and ``gt_instance_labels.keypoint_weights``.
            train_cfg (dict): ``compute_acc`` (bool). Defaults to ``{}``.

        Returns:
            dict: ``loss_kpt``, ``loss_seg`` (and the loss module's other
            outputs, e.g. DWA's ``dwa_weight_*``), plus ``acc_pose``.
        """
        seg_logits, feats = self.split_seg_logits(feats)
        if 'seg_map' not in batch_data_samples[0].gt_fields:
            raise KeyError(
                f'{type(self).__name__}: data samples carry no '
                '`gt_fields.seg_map`; generate targets with the '
                'SegmentationHeatmap codec (GenerateTarget(encoder=codec))')
        gt_seg = torch.stack([d.gt_fields.seg_map for d in batch_data_samples])
        if gt_seg.shape[-2:] != seg_logits.shape[-2:]:
            raise ValueError(
                f'{type(self).__name__}: segmentation maps are '
                f'{tuple(seg_logits.shape[-2:])} but the target is '
                f'{tuple(gt_seg.shape[-2:])}; the codec heatmap_size must be '
                'a quarter of the input size')
        pred_heatmaps = self.forward(feats)
        gt_heatmaps = torch.stack(
            [d.gt_fields.heatmaps for d in batch_data_samples])
        keypoint_weights = torch.cat([
            d.gt_instance_labels.keypoint_weights for d in batch_data_samples
        ])

        losses = self._task_losses(
            dict(
                kpt=(pred_heatmaps, gt_heatmaps, keypoint_weights),
                seg=(seg_logits, gt_seg.expand_as(seg_logits))))

        if train_cfg.get('compute_acc', True):
            _, avg_acc, _ = pose_pck_accuracy(
                output=to_numpy(pred_heatmaps.float()),
                target=to_numpy(gt_heatmaps),
                mask=to_numpy(keypoint_weights) > 0)
            losses.update(
                acc_pose=torch.tensor(avg_acc, device=gt_heatmaps.device))
        return losses

    @float32_under_autocast
    def _task_losses(self, task_inputs: Dict[str, Tuple]) -> dict:
        # float32 for any configured loss module, not only DWALoss
        return self.loss_module(task_inputs)
