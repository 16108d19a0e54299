# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Top-down pose estimation with an image pyramid + flip test.

SPCNet (Sec. 4.1, "Testing results are produced from six-scale image pyramids
with flipping"; Sec. 4.3, "Following prior methods [9, 30], we further
conduct the horizon flip and six-scale image pyramids") and SADI-Net (Sec.
IV-B, "image pyramids with six scales and flipping") average heatmaps over an
image pyramid and its mirror images before taking the maxima. MMPose's
``TopdownPoseEstimator`` only supports the flip half. Two pyramids are
offered (``test_cfg.multiscale_mode``):

- ``'recrop'``: the protocol of the methods SPCNet follows (PyraNet [30],
  ``evalPyra.lua``/``Trainer:multiScaleTest`` of its public code): for each
  scale factor ``s`` the person box is scaled by ``s`` and cropped again to
  the model's input size (:class:`PyramidTopdownAffine`, in the test
  pipeline), the heatmaps of every crop and its mirror image are mapped back
  to the original image frame, averaged there, then decoded.
- ``'crop_resize'``: the network input (the crop) is resized by ``s``; the
  network then sees input sizes it never trained on and its field of view
  never changes. Kept as a named option (SADI-Net's six-scale configs).
"""
import math
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmpose.datasets.transforms import TopdownAffine
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS, TRANSFORMS
from mmpose.utils.typing import SampleList

MODES = ('crop_resize', 'recrop')


def _check_scales(scales, owner: str) -> None:
    if (isinstance(scales, (str, bytes)) or not isinstance(scales, Sequence)
            or len(scales) == 0
            or not all(isinstance(s, Number) and s > 0 for s in scales)):
        raise ValueError(f'{owner}: scales must be a non-empty list of '
                         f'positive numbers, got {scales!r}')


@TRANSFORMS.register_module()
class PyramidTopdownAffine(TopdownAffine):
    """:class:`TopdownAffine` that also crops the person box scaled by each
    factor of an image pyramid (the ``'recrop'`` mode of
    :class:`MultiScaleTopdownPoseEstimator`).

    For each ``s`` of ``scales`` the box (``bbox_scale``, after MMPose's
    aspect-ratio fix) is multiplied by ``s`` around the same center and
    cropped to ``input_size`` with MMPose's own :class:`TopdownAffine`
    (``get_warp_matrix`` + ``cv2.warpAffine``); ``s > 1`` shows more context
    at a coarser resolution, as PyraNet's ``dataset:get(idx, scaleFactor)``.
    Everything else (``input_center``, ``input_scale``, transformed
    keypoints) is the unscaled box's, exactly as :class:`TopdownAffine`
    writes it, so the estimator maps predictions back as MMPose does.

    Note:
        - pyramid scales: S
        - input size: [w, h]

    Modified Keys:

        - img: the S crops stacked along the height axis, (S*h, w, C), in
          the order of ``scales``. Stacked this way MMPose's
          ``PackPoseInputs`` and ``PoseDataPreprocessor`` normalise them
          unchanged (one image per sample); the estimator splits them.
        - bbox_scale

    Added Keys: as :class:`TopdownAffine` (``input_size``, ``input_center``,
    ``input_scale``, ``transformed_keypoints``).

    Args:
        input_size (Tuple[int, int]): The model's input size [w, h].
        scales (Sequence[float]): Box scale factors. Defaults to ``(1.0, )``.
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 scales: Sequence[float] = (1.0, )) -> None:
        super().__init__(input_size, use_udp=False)
        _check_scales(scales, self.__class__.__name__)
        self.scales = tuple(float(s) for s in scales)

    def transform(self, results: Dict) -> Optional[dict]:
        """Crop every scaled box, then the unscaled box's geometry.

        Args:
            results (dict): The result dict (``img``, ``bbox_center``,
                ``bbox_scale``, optionally ``keypoints``).

        Returns:
            dict: ``results`` with ``img`` of shape (S*h, w, C).
        """
        image, bbox_scale = results['img'], results['bbox_scale']
        crops = [
            super(PyramidTopdownAffine, self).transform(
                dict(results, img=image, bbox_scale=bbox_scale * s))['img']
            for s in self.scales
        ]
        results = super().transform(results)
        results['img'] = np.concatenate(crops, axis=0)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'scales={self.scales})')


@MODELS.register_module()
class MultiScaleTopdownPoseEstimator(TopdownPoseEstimator):
    """A :class:`TopdownPoseEstimator` that averages heatmaps over an image
    pyramid and horizontal flips before decoding (SPCNet Sec. 4.1/4.3,
    SADI-Net Sec. IV-B).

    Every pass (scale ``s``, flipped or not) runs backbone/neck/head; flipped
    heatmaps are un-flipped with MMPose's :func:`flip_heatmaps` (same
    ``flip_mode``/``shift_heatmap`` semantics as stock flip test) and each
    scale's pair is averaged as stock does, ``(h + h_flip) / 2``. The
    average over all scales is decoded by the head's own ``decode`` (its
    codec), so any heatmap head works (``HeatmapHead``, ``CPMHead`` and heads
    built on them); multi-stage heads are decoded on their last stage.

    ``multiscale_mode='recrop'`` (the test pipeline must crop with
    :class:`PyramidTopdownAffine` and the same ``scales``): scale ``s``'s
    heatmap covers the box scaled by ``s``. All of them are mapped into one
    frame of the original image: its axes and pixel size are those of the
    unscaled box's heatmap (``input_scale / heatmap_size`` image pixels per
    cell, so the unscaled heatmap lands on it unresampled), extended by
    ``pad = ceil((max(scales) - 1) * size / 2)`` cells on each side so the
    largest box fits. Bilinear sampling (``grid_sample``, zeros outside a
    crop), one call for all scales and samples; the frame average is decoded
    and shifted back by ``pad``. Decoding in a frame of heatmap resolution
    keeps the codec's sub-pixel refinement meaningful (PyraNet maps to full
    image resolution and takes the plain argmax). With ``scales=[1.0]`` the
    computation is exactly the stock one.

    ``multiscale_mode='crop_resize'``: the network input crop is resized
    bilinearly by ``s`` (sizes rounded to ``size_divisor``), the heatmaps
    resized back to the unscaled heatmap size and averaged.

    Args (besides those of :class:`TopdownPoseEstimator`), read from
    ``test_cfg``:
        multiscale_mode (str): ``'recrop'`` or ``'crop_resize'``. Defaults
            to ``'crop_resize'``.
        scales (Sequence[float]): Pyramid factors (box factors in
            ``'recrop'``, input-size factors in ``'crop_resize'``). Defaults
            to ``[1.0]``.
        flip_test (bool): Also run every scale on the mirrored input.
            Defaults to ``False``.
        flip_mode (str): ``flip_heatmaps`` mode. Multi-scale averaging is
            only defined for plain heatmaps (``'heatmap'``); offset-style
            outputs are allowed only with ``scales=[1.0]``. Defaults to
            ``'heatmap'``.
        shift_heatmap (bool): Shift un-flipped heatmaps by one pixel, as in
            stock flip test. Defaults to ``False``.
        size_divisor (int): ``'crop_resize'`` only: each scaled input size
            is rounded half up to a multiple of this (at least one), so the
            backbone's down- and up-sampling stages line up (32 for
            HRNet/ResNet, 64 for a hourglass with 4 down-samplings after a
            stride-4 stem). Defaults to 32.
        align_corners (bool): ``'crop_resize'`` only: ``align_corners`` of
            both bilinear resizes. Defaults to ``False``.
        output_heatmaps (bool): Store the averaged heatmaps in
            ``pred_fields.heatmaps`` (``'recrop'``: the unscaled box's window
            of the frame, the stock heatmap size). Defaults to ``False``.
        Other keys (e.g. ``output_keypoint_indices``) keep their stock
        meaning.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._check_test_cfg(self.test_cfg)

    @staticmethod
    def _check_test_cfg(test_cfg: dict) -> None:
        owner = 'MultiScaleTopdownPoseEstimator: test_cfg'
        mode = test_cfg.get('multiscale_mode', 'crop_resize')
        if mode not in MODES:
            raise ValueError(f'{owner}.multiscale_mode must be one of '
                             f'{MODES}, got {mode!r}')
        scales = test_cfg.get('scales', [1.0])
        _check_scales(scales, owner)
        size_divisor = test_cfg.get('size_divisor', 32)
        if not isinstance(size_divisor, int) or size_divisor < 1:
            raise ValueError(f'{owner}.size_divisor must be a positive int, '
                             f'got {size_divisor!r}')
        flip_mode = test_cfg.get('flip_mode', 'heatmap')
        if list(scales) != [1.0] and flip_mode != 'heatmap':
            raise ValueError(
                f'{owner}: averaging over scales {list(scales)} is only '
                "defined for plain heatmaps (flip_mode='heatmap'), got "
                f'flip_mode={flip_mode!r}')

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

    def _flip_averaged(self, inputs: Tensor,
                       flip_indices: Optional[List[int]]) -> Tensor:
        """Heatmaps of ``inputs``, averaged with those of its mirror image
        as stock flip test does when ``flip_indices`` is given."""
        heatmaps = self.forward_heatmaps(inputs)
        if flip_indices is None:
            return heatmaps
        flipped = flip_heatmaps(
            self.forward_heatmaps(inputs.flip(-1)),
            flip_mode=self.test_cfg.get('flip_mode', 'heatmap'),
            flip_indices=flip_indices,
            shift_heatmap=self.test_cfg.get('shift_heatmap', False))
        # Division keeps (h + h_flip) / 2 bit-identical to stock's * 0.5.
        return (heatmaps + flipped) / 2

    @staticmethod
    def frame_padding(scales: Sequence[float],
                      heatmap_hw: Tuple[int, int]) -> Tuple[int, int]:
        """Cells added on each side of the unscaled heatmap so that the
        frame holds the largest box: ``ceil((max(scales) - 1) * size / 2)``
        (0 when no scale exceeds 1), as (pad_y, pad_x)."""
        grow = max(max(scales) - 1.0, 0.0)
        return tuple(int(math.ceil(grow * n / 2 - 1e-9)) for n in heatmap_hw)

    def recrop_heatmaps(self, inputs: Tensor, data_samples: SampleList
                        ) -> Tuple[Tensor, Tuple[int, int]]:
        """``'recrop'`` mode: map every scale's (flip-averaged) heatmaps
        into the original image frame and average them there.

        Args:
            inputs (Tensor): The S crops of each sample stacked along the
                height, (B, C, S*h_in, w_in) (:class:`PyramidTopdownAffine`).
            data_samples (list[:obj:`PoseDataSample`]): Their data samples.

        Returns:
            tuple: the frame average (B, K, h + 2*pad_y, w + 2*pad_x) and
            ``(pad_y, pad_x)``.
        """
        scales = [float(s) for s in self.test_cfg.get('scales', [1.0])]
        num_scales = len(scales)
        batch, channels, height, width = inputs.shape
        in_w, in_h = (int(v) for v in data_samples[0].metainfo['input_size'])
        if (height, width) != (num_scales * in_h, in_w):
            raise ValueError(
                'MultiScaleTopdownPoseEstimator: test_cfg.scales lists '
                f'{num_scales} box scales, so each input must hold '
                f'{num_scales} crops of {in_w}x{in_h} stacked along the '
                f'height ({in_w}x{num_scales * in_h}), got {width}x{height}: '
                'crop with PyramidTopdownAffine(scales=<test_cfg.scales>) in '
                'the test pipeline')
        flip_indices = (
            data_samples[0].metainfo['flip_indices']
            if self.test_cfg.get('flip_test', False) else None)
        crops = inputs.view(batch, channels, num_scales, in_h, in_w)
        per_scale = [
            self._flip_averaged(crops[:, :, i], flip_indices)
            for i in range(num_scales)
        ]
        hm_h, hm_w = per_scale[0].shape[-2:]
        pad_y, pad_x = self.frame_padding(scales, (hm_h, hm_w))
        frames = []
        resampled = [i for i, s in enumerate(scales) if s != 1.0]
        if resampled:
            # frame cell (x, y) -> the heatmap of scale s: the crop center
            # (w/2, h/2) stays fixed, distances shrink by s
            ys = torch.arange(hm_h + 2 * pad_y, dtype=torch.float32)
            xs = torch.arange(hm_w + 2 * pad_x, dtype=torch.float32)
            s = torch.tensor([scales[i] for i in resampled])[:, None]
            src_x = (xs[None] - pad_x - hm_w / 2) / s + hm_w / 2
            src_y = (ys[None] - pad_y - hm_h / 2) / s + hm_h / 2
            # grid_sample's normalised coordinates (align_corners=True)
            gx = (src_x * 2 / (hm_w - 1) - 1)[:, None, :].expand(
                -1, len(ys), -1)
            gy = (src_y * 2 / (hm_h - 1) - 1)[:, :, None].expand(
                -1, -1, len(xs))
            grid = torch.stack((gx, gy), dim=-1).to(inputs.device)
            stacked = torch.stack([per_scale[i] for i in resampled])
            sampled = F.grid_sample(
                stacked.flatten(0, 1).float(),
                grid.repeat_interleave(batch, dim=0),
                mode='bilinear',
                padding_mode='zeros',
                align_corners=True).view(len(resampled), batch, -1,
                                         len(ys), len(xs))
            frames.extend(sampled.to(stacked.dtype).unbind(0))
        frames.extend(
            F.pad(per_scale[i], (pad_x, pad_x, pad_y, pad_y))
            for i, s in enumerate(scales) if s == 1.0)
        if len(frames) == 1:
            return frames[0], (pad_y, pad_x)
        return torch.stack(frames).sum(0) / len(frames), (pad_y, pad_x)

    def tta_heatmaps(self, inputs: Tensor,
                     data_samples: SampleList) -> Tensor:
        """``'crop_resize'`` mode: average heatmaps over ``test_cfg.scales``
        x (identity, flip) of the resized input crop."""
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
        self._check_test_cfg(self.test_cfg)
        if self.test_cfg.get('multiscale_mode', 'crop_resize') == 'recrop':
            frame, (pad_y, pad_x) = self.recrop_heatmaps(inputs, data_samples)
            preds = self.head.decode(frame)
            # frame cells -> the unscaled crop's input pixels
            cell = np.array([
                inputs.shape[-1] / (frame.shape[-1] - 2 * pad_x),
                inputs.shape[-2] / len(self.test_cfg.get('scales', [1.0])) /
                (frame.shape[-2] - 2 * pad_y)
            ])
            if pad_x or pad_y:
                for pred in preds:
                    pred.keypoints[..., :2] -= np.array([pad_x, pad_y]) * cell
            batch_heatmaps = frame[..., pad_y:frame.shape[-2] - pad_y,
                                   pad_x:frame.shape[-1] - pad_x]
        else:
            batch_heatmaps = self.tta_heatmaps(inputs, data_samples)
            preds = self.head.decode(batch_heatmaps)

        pred_fields = None
        if self.test_cfg.get('output_heatmaps', False):
            pred_fields = [
                PixelData(heatmaps=hm) for hm in batch_heatmaps.detach()
            ]
        return self.add_pred_to_datasample(preds, pred_fields, data_samples)
