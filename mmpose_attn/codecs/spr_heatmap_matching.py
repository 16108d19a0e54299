# Copyright (c) mmpose_attn contributors. All rights reserved.
"""DEKR's test-time heatmap matching as an option of MMPose's SPR codec.

SAMKR (Chen et al., IJCNN 2022, Sec. I and II) "follows the method of using
the keypoint heatmap to match the regression pose": DEKR's
``match_pose_to_heatmap`` (Geng et al., CVPR 2021, HRNet/DEKR
``lib/core/match.py``, ``absorb_heat``; switched by ``TEST.MATCH_HMP``).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmpose.codecs import SPR
from mmpose.codecs.utils import batch_heatmap_nms
from mmpose.registry import KEYPOINT_CODECS


@KEYPOINT_CODECS.register_module()
class SPRHeatmapMatching(SPR):
    """MMPose's :class:`SPR` codec (DEKR's) whose decoding can replace each
    regressed keypoint by the nearest peak of its keypoint heatmap, as DEKR's
    ``absorb_heat`` (`DEKR`_).

    With ``match_heatmap=True``, after :meth:`SPR.decode` (keypoints in
    input-image pixels, keypoint scores read at the regressed positions):

    1. the keypoint heatmaps (K, H, W) are upsampled to input resolution as
       DEKR's ``up_interpolate`` does (bilinear with aligned corners, so
       input pixel ``j`` is heatmap coordinate ``j / scale_factor``, MMPose's
       convention, then the last ``scale_factor - 1`` rows/columns
       replicated);
    2. peaks are the ``match_num_peaks`` highest maxima of MMPose's
       :func:`batch_heatmap_nms` (``match_nms_kernel``) per keypoint;
    3. each keypoint moves onto the nearest peak of its own heatmap when it
       is closer than ``match_max_distance`` input pixels, and stays
       otherwise.

    Scores are not recomputed (DEKR scores its poses before matching).
    Departures: peaks must be positive (what NMS zeroes is not a peak; DEKR
    takes the top-k of the NMS output, zeros included, when a heatmap has
    fewer maxima); DEKR's second matching step, a per-keypoint Gaussian fit
    (``adjust``, scipy's ``curve_fit``), is not done; and MMPose decodes
    (and so matches) before its pose NMS and rescoring, where DEKR matches
    after its pose NMS. All tensor operations, no loop over keypoints.

    Note:
        - instance number: N
        - keypoint number: K
        - peaks per keypoint: P
        - heatmap size: [W, H]

    Args:
        match_heatmap (bool): Match regressed keypoints to heatmap peaks
            (DEKR's ``TEST.MATCH_HMP``). Needs
            ``generate_keypoint_heatmaps=True`` and an integer ratio of
            input to heatmap size. Defaults to ``False``.
        match_max_distance (float): Largest keypoint-to-peak distance that
            is matched, in input-image pixels (DEKR's
            ``TEST.MAX_ABSORB_DISTANCE``). Defaults to 75.
        match_num_peaks (int): Peaks per keypoint heatmap (DEKR: its
            ``DATASET.MAX_NUM_PEOPLE``). Defaults to 30.
        match_nms_kernel (int): NMS kernel of the peak search, at input
            resolution (DEKR's ``MaxPool2d(5, 1, 2)``). Defaults to 5.
        **kwargs: :class:`SPR` arguments.

    .. _`DEKR`: https://arxiv.org/abs/2104.02300
    """

    def __init__(self,
                 *args,
                 match_heatmap: bool = False,
                 match_max_distance: float = 75.,
                 match_num_peaks: int = 30,
                 match_nms_kernel: int = 5,
                 **kwargs):
        super().__init__(*args, **kwargs)
        name = self.__class__.__name__
        if not (match_max_distance > 0 and match_num_peaks >= 1
                and match_nms_kernel >= 1 and match_nms_kernel % 2 == 1):
            raise ValueError(
                f'{name}: match_max_distance must be > 0, match_num_peaks '
                '>= 1 and match_nms_kernel a positive odd integer, got '
                f'{match_max_distance}, {match_num_peaks}, '
                f'{match_nms_kernel}')
        ratio = [i / h for i, h in zip(self.input_size, self.heatmap_size)]
        if match_heatmap and not self.generate_keypoint_heatmaps:
            raise ValueError(
                f'{name}: match_heatmap=True needs the keypoint heatmaps '
                '(generate_keypoint_heatmaps=True)')
        if match_heatmap and not all(r >= 1 and r == int(r) for r in ratio):
            raise ValueError(
                f'{name}: match_heatmap=True needs input_size '
                f'{tuple(self.input_size)} to be an integer multiple of '
                f'heatmap_size {tuple(self.heatmap_size)}')
        self.match_heatmap = match_heatmap
        self.match_max_distance = float(match_max_distance)
        self.match_num_peaks = int(match_num_peaks)
        self.match_nms_kernel = int(match_nms_kernel)

    def decode(self, heatmaps: Tensor, displacements: Tensor
               ) -> Tuple[Tensor, Tuple[Tensor, Optional[Tensor]]]:
        """:meth:`SPR.decode`, then :meth:`match_to_heatmap` when
        ``match_heatmap``.

        Args:
            heatmaps (Tensor): Keypoint and root heatmaps, (K+1, H, W).
            displacements (Tensor): Displacement fields, (2K, H, W).

        Returns:
            tuple: keypoints (N, K, 2) in input-image pixels and
            ``(root_scores (N, ), keypoint_scores (N, K))``, as SPR's.
        """
        keypoints, scores = super().decode(heatmaps, displacements)
        if self.match_heatmap and len(keypoints):
            keypoints = self.match_to_heatmap(
                keypoints, heatmaps[:keypoints.shape[1]])
        return keypoints, scores

    def heatmap_peaks(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """Peaks of each keypoint heatmap at input resolution.

        Args:
            heatmaps (Tensor): Keypoint heatmaps, (K, H, W).

        Returns:
            tuple: peak coordinates (K, P, 2) as (x, y) input pixels and
            their heatmap values (K, P).
        """
        k, h, w = heatmaps.shape
        sx, sy = (int(round(i / o))
                  for i, o in zip(self.input_size, self.heatmap_size))
        upsampled = F.interpolate(
            heatmaps[None].float(),
            size=((h - 1) * sy + 1, (w - 1) * sx + 1),
            mode='bilinear',
            align_corners=True)
        upsampled = F.pad(upsampled, (0, sx - 1, 0, sy - 1), mode='replicate')
        peaks = batch_heatmap_nms(upsampled, self.match_nms_kernel)[0]
        width = peaks.shape[-1]
        values, index = peaks.flatten(1).topk(
            min(self.match_num_peaks, peaks[0].numel()), dim=1)
        coords = torch.stack((index % width, index // width), dim=-1)
        return coords.to(heatmaps.dtype), values

    def match_to_heatmap(self, keypoints: Tensor, heatmaps: Tensor
                         ) -> Tensor:
        """Replace each keypoint by the nearest positive peak of its own
        heatmap closer than ``match_max_distance``.

        Args:
            keypoints (Tensor): Regressed keypoints (N, K, 2), input pixels.
            heatmaps (Tensor): Keypoint heatmaps (K, H, W).

        Returns:
            Tensor: Matched keypoints (N, K, 2).
        """
        peaks, values = self.heatmap_peaks(heatmaps)
        peaks = peaks.to(keypoints)
        # (N, K, P) distances of every keypoint to its heatmap's peaks
        dist = torch.linalg.norm(keypoints[:, :, None] - peaks[None], dim=-1)
        dist = dist.masked_fill(values[None] <= 0, float('inf'))
        nearest_dist, nearest = dist.min(dim=-1)
        nearest_peak = torch.gather(
            peaks[None].expand(len(keypoints), -1, -1, -1), 2,
            nearest[..., None, None].expand(-1, -1, 1, 2))[:, :, 0]
        matched = nearest_dist < self.match_max_distance
        return torch.where(matched[..., None], nearest_peak, keypoints)
