"""Top-down pose estimator with image-pyramid + flip test-time augmentation.

SPCNet (Sec. 4.1, "Testing results are produced from six-scale image pyramids
with flipping") and SADI-Net (Sec. IV-B, "image pyramids with six scales and
flipping") average heatmaps over an image pyramid and its mirror images before
taking the maxima. MMPose's ``TopdownPoseEstimator`` only supports the flip
half of this; this estimator adds the pyramid and keeps everything else
(decoding, output format) stock.
"""
import math
from numbers import Number
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList


@MODELS.register_module()
class MultiScaleTopdownPoseEstimator(TopdownPoseEstimator):
    """A :class:`TopdownPoseEstimator` that averages heatmaps over an image
    pyramid and horizontal flips before decoding.

    Every pass (scale ``s``, flipped or not) resizes the whole input crop
    bilinearly by ``s``, runs backbone/neck/head, un-flips the heatmaps with
    MMPose's :func:`flip_heatmaps` (same ``flip_mode``/``shift_heatmap``
    semantics as stock flip test), resizes them back to the heatmap size of
    the unscaled input and averages all passes with equal weight. The average
    is decoded by the head's own ``decode`` (its codec), so any heatmap head
    works: ``HeatmapHead``, ``CPMHead`` and heads built on them.

    Interpretation: the papers give neither the scale values nor how the
    pyramid is built. We rescale the already-cropped network input (the usual
    "image pyramid" of hourglass-family test code, and what MMPose's bottom-up
    multi-scale test does) rather than re-cropping the original image, so the
    estimator plugs into MMPose's stock data pipelines. The scale values are a
    config choice (``test_cfg.scales``).

    With ``scales=[1.0]`` the computation is exactly the stock one: no
    resizing, one (or two, with flip) forward passes, ``(h + h_flip) / 2``.

    Args (besides those of :class:`TopdownPoseEstimator`), read from
    ``test_cfg``:
        scales (Sequence[float]): Image-pyramid factors. Defaults to
            ``[1.0]``.
        flip_test (bool): Also run every scale on the mirrored input.
            Defaults to ``False``.
        flip_mode (str): ``flip_heatmaps`` mode. Multi-scale averaging is
            only defined for plain heatmaps (``'heatmap'``); offset-style
            outputs are allowed only with ``scales=[1.0]``. Defaults to
            ``'heatmap'``.
        shift_heatmap (bool): Shift un-flipped heatmaps by one pixel, as in
            stock flip test. Defaults to ``False``.
        size_divisor (int): Each scaled input size is rounded to the nearest
            multiple of this (at least one multiple), so the backbone's down-
            and up-sampling stages line up: 32 for HRNet/ResNet, 64 for a
            hourglass with 4 down-samplings after a stride-4 stem. The exact
            factor actually applied is ``rounded_size / input_size`` and the
            heatmaps are resized back accordingly. Defaults to 32.
        align_corners (bool): ``align_corners`` of both bilinear resizes
            (input down/up-scaling and heatmap resizing back). Defaults to
            ``False``.
        output_heatmaps (bool): Store the averaged heatmaps in
            ``pred_fields.heatmaps``. Defaults to ``False``.
        Other keys (e.g. ``output_keypoint_indices``) keep their stock
        meaning.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._check_test_cfg(self.test_cfg)

    @staticmethod
    def _check_test_cfg(test_cfg: dict) -> None:
        scales = test_cfg.get('scales', [1.0])
        if (isinstance(scales, (str, bytes)) or not isinstance(
                scales, Sequence) or len(scales) == 0 or not all(
                    isinstance(s, Number) and s > 0 for s in scales)):
            raise ValueError(
                'MultiScaleTopdownPoseEstimator: test_cfg.scales must be a '
                f'non-empty list of positive numbers, got {scales!r}')
        size_divisor = test_cfg.get('size_divisor', 32)
        if not isinstance(size_divisor, int) or size_divisor < 1:
            raise ValueError(
                'MultiScaleTopdownPoseEstimator: test_cfg.size_divisor must '
                f'be a positive int, got {size_divisor!r}')
        flip_mode = test_cfg.get('flip_mode', 'heatmap')
        if list(scales) != [1.0] and flip_mode != 'heatmap':
            raise ValueError(
                'MultiScaleTopdownPoseEstimator: averaging over scales '
                f'{list(scales)} is only defined for plain heatmaps '
                f"(flip_mode='heatmap'), got flip_mode={flip_mode!r}")

    def final_heatmaps(self, head_outputs: Union[Tensor, Sequence[Tensor]]
                       ) -> Tensor:
        """Pick the heatmaps to decode from ``head.forward``'s output.

        Multi-stage heads (``CPMHead``, multi-stack hourglass heads) return
        one heatmap per stage; as in their own ``predict`` the final stage is
        used. Override for heads whose output is structured differently.
        """
        if isinstance(head_outputs, (list, tuple)):
            return head_outputs[-1]
        return head_outputs

    def forward_heatmaps(self, inputs: Tensor) -> Tensor:
        """Backbone, neck and head on one batch; returns final heatmaps."""
        return self.final_heatmaps(self.head.forward(
            self.extract_feat(inputs)))

    def _scaled_size(self, size: Tuple[int, int], scale: float
                     ) -> Tuple[int, int]:
        """``size * scale`` rounded half up to a multiple of
        ``size_divisor`` (at least one); scale 1 keeps ``size`` as is."""
        if scale == 1.0:
            return tuple(size)
        divisor = self.test_cfg.get('size_divisor', 32)
        return tuple(
            max(divisor, math.floor(s * scale / divisor + 0.5) * divisor)
            for s in size)

    def tta_heatmaps(self, inputs: Tensor,
                     data_samples: SampleList) -> Tensor:
        """Average heatmaps over ``test_cfg.scales`` x (identity, flip)."""
        cfg = self.test_cfg
        self._check_test_cfg(cfg)
        scales = cfg.get('scales', [1.0])
        flip_test = cfg.get('flip_test', False)
        align_corners = cfg.get('align_corners', False)
        flip_indices = (
            data_samples[0].metainfo['flip_indices'] if flip_test else None)

        in_size = tuple(inputs.shape[-2:])
        ref_size: Optional[Tuple[int, int]] = None
        heatmaps: List[Tensor] = []
        for scale in scales:
            size = self._scaled_size(in_size, scale)
            _inputs = inputs if size == in_size else F.interpolate(
                inputs, size=size, mode='bilinear',
                align_corners=align_corners)
            passes = [self.forward_heatmaps(_inputs)]
            if flip_test:
                passes.append(
                    flip_heatmaps(
                        self.forward_heatmaps(_inputs.flip(-1)),
                        flip_mode=cfg.get('flip_mode', 'heatmap'),
                        flip_indices=flip_indices,
                        shift_heatmap=cfg.get('shift_heatmap', False)))
            if size == in_size and ref_size is None:
                ref_size = tuple(passes[0].shape[-2:])
            heatmaps.extend(passes)

        if ref_size is None:
            ref_size = self._reference_heatmap_size(heatmaps[0], in_size,
                                                    scales[0])
        total = None
        for hm in heatmaps:
            if tuple(hm.shape[-2:]) != ref_size:
                hm = F.interpolate(
                    hm, size=ref_size, mode='bilinear',
                    align_corners=align_corners)
            total = hm if total is None else total + hm
        # Division keeps (h + h_flip) / 2 bit-identical to stock's * 0.5.
        return total / len(heatmaps) if len(heatmaps) > 1 else total

    def _reference_heatmap_size(self, heatmaps: Tensor,
                                in_size: Tuple[int, int],
                                scale: float) -> Tuple[int, int]:
        """Heatmap size of the unscaled input when no scale is 1.0: the
        codec's ``heatmap_size`` (w, h), else derived from the first pass."""
        decoder = getattr(self.head, 'decoder', None)
        hm_size = getattr(decoder, 'heatmap_size', None)
        if hm_size is not None:
            return (int(hm_size[1]), int(hm_size[0]))
        size = self._scaled_size(in_size, scale)
        return tuple(
            int(round(h * i / s))
            for h, i, s in zip(heatmaps.shape[-2:], in_size, size))

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Predict keypoints with image-pyramid + flip TTA.

        Returns:
            list[:obj:`PoseDataSample`]: as :meth:`TopdownPoseEstimator
            .predict`: ``pred_instances`` with ``keypoints`` and
            ``keypoint_scores`` in image space, and ``pred_fields.heatmaps``
            (the averaged heatmaps) when ``test_cfg.output_heatmaps``.
        """
        assert self.with_head, (
            'The model must have head to perform prediction.')
        batch_heatmaps = self.tta_heatmaps(inputs, data_samples)
        preds = self.head.decode(batch_heatmaps)

        pred_fields = None
        if self.test_cfg.get('output_heatmaps', False):
            pred_fields = [
                PixelData(heatmaps=hm) for hm in batch_heatmaps.detach()
            ]
        return self.add_pred_to_datasample(preds, pred_fields, data_samples)

