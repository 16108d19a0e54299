"""Keypoint heatmaps plus the keypoint-segmentation target of SG-HRNet.

Tang et al., "Segmentation Guided Attention Networks for Human Pose
Estimation", Traitement du Signal 41(5), 2024, Sec. 3.1 (Eq. 2-3).
"""
from typing import Optional, Tuple

import numpy as np

from mmpose.codecs import MSRAHeatmap
from mmpose.codecs.utils.gaussian_heatmap import (
    generate_gaussian_heatmaps, generate_unbiased_gaussian_heatmaps)
from mmpose.registry import KEYPOINT_CODECS


@KEYPOINT_CODECS.register_module()
class SegmentationHeatmap(MSRAHeatmap):
    """MSRA Gaussian heatmaps (Eq. 3) and a binary keypoint segmentation map
    (Eq. 2), both at heatmap resolution; decoding is MSRAHeatmap's (maximum
    shifted a quarter pixel toward the second highest neighbour).

    The segmentation map is 1 at every heatmap pixel ``p`` (integer pixel
    coordinates, the convention of the Gaussian targets) whose Euclidean
    distance to a visible keypoint is at most ``radius``, and 0 elsewhere.
    Eq. 2 prints ``||p - P||^2 <= r``; ``r`` is called the radius of the
    region, so the condition is read as ``||p - P|| <= r``. Keypoints are not
    rounded: the disk is centred on the sub-pixel keypoint.

    Encoded:

        - heatmaps (np.ndarray): (K, H, W), the Gaussian of each keypoint,
          maximum over instances (identical to ``MSRAHeatmap`` for one).
        - keypoint_weights (np.ndarray): (N, K), as ``MSRAHeatmap``.
        - seg_map (np.ndarray): (1, H, W) float32 in {0, 1}, union over
          keypoints and instances; packed into ``gt_fields.seg_map``.

    Args:
        input_size (tuple): Image size in [w, h].
        heatmap_size (tuple): Heatmap size in [W, H].
        sigma (float): Gaussian sigma in heatmap pixels (paper: 2).
        radius (float): Segmentation radius ``r`` in heatmap pixels
            (paper: 5; Table 3 ablates 3, 5, 9).
        unbiased (bool): DarkPose encoding/decoding, as ``MSRAHeatmap``.
        blur_kernel_size (int): DarkPose blur kernel, as ``MSRAHeatmap``.
    """

    field_mapping_table = dict(heatmaps='heatmaps', seg_map='seg_map')

    def __init__(self,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 sigma: float = 2.,
                 radius: float = 5.,
                 unbiased: bool = False,
                 blur_kernel_size: int = 11) -> None:
        super().__init__(
            input_size=input_size,
            heatmap_size=heatmap_size,
            sigma=sigma,
            unbiased=unbiased,
            blur_kernel_size=blur_kernel_size)
        if not radius > 0:
            raise ValueError(f'{type(self).__name__}: radius must be > 0 '
                             f'heatmap pixels, got {radius}')
        self.radius = float(radius)
        # row offsets from floor(y - r) covering every row a disk can reach
        self._row_offsets = np.arange(int(np.ceil(2 * self.radius)) + 1)

    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """Encode keypoints (N, K, D) in input-image space, visibilities
        (N, K), into heatmaps, keypoint weights and the segmentation map."""
        if keypoints.ndim != 3:
            raise ValueError(
                f'{type(self).__name__}.encode: keypoints must have shape '
                f'(N, K, D), got {keypoints.shape}')
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        keypoints = keypoints[..., :2] / self.scale_factor

        generate = generate_unbiased_gaussian_heatmaps if self.unbiased \
            else generate_gaussian_heatmaps
        heatmaps, keypoint_weights = generate(
            heatmap_size=self.heatmap_size,
            keypoints=keypoints,
            keypoints_visible=keypoints_visible,
            sigma=self.sigma)
        seg_map = self.encode_segmentation(keypoints, keypoints_visible)
        return dict(
            heatmaps=heatmaps,
            keypoint_weights=keypoint_weights,
            seg_map=seg_map)

    def encode_segmentation(self, keypoints: np.ndarray,
                            keypoints_visible: np.ndarray) -> np.ndarray:
        """Eq. 2 for keypoints (N, K, 2) already in heatmap space; returns
        (1, H, W). Labelled means visibility >= 0.5, as for the Gaussians."""
        W, H = self.heatmap_size
        centers = keypoints[keypoints_visible >= 0.5]  # (M, 2)
        if centers.size == 0:
            return np.zeros((1, H, W), dtype=np.float32)
        r = self.radius
        cx, cy = centers[:, :1], centers[:, 1:2]
        # Each disk is a run of columns [x0, x1) on each row it reaches:
        # (M, S) runs for all keypoints at once, no per-pixel distances.
        rows = np.floor(cy - r) + self._row_offsets
        half2 = r * r - np.square(rows - cy)
        half = np.sqrt(np.maximum(half2, 0.))
        x0 = np.clip(np.ceil(cx - half), 0, W)
        x1 = np.clip(np.floor(cx + half) + 1, 0, W)
        valid = (half2 >= 0) & (x1 > x0) & (rows >= 0) & (rows < H)
        # Paint the runs: +1 where a run starts, -1 where it ends, then a
        # cumulative sum along each row (rows padded to W + 1 for the ends).
        row_start = rows[valid] * (W + 1)
        size = H * (W + 1)
        edges = np.bincount(
            (row_start + x0[valid]).astype(np.intp), minlength=size) - \
            np.bincount((row_start + x1[valid]).astype(np.intp),
                        minlength=size)
        covered = edges.reshape(H, W + 1).cumsum(axis=1)[:, :W] > 0
        return covered[None].astype(np.float32)
