"""Pictures of SPCNet's Selective Information Module weights (Eqs. 2-4): for
one person, which decoder level (X_1..X_4) the fused feature takes where."""
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torch import nn

from .panels import TITLE_HEIGHT  # noqa: F401 (re-exported for callers)
from .panels import collect_forward, jet, titled_panel

PANEL_HEIGHT = 256
# Distinct BGR colours for the "dominant level" panel.
LEVEL_COLORS = np.array([[40, 40, 230], [40, 200, 40], [230, 120, 30],
                         [30, 200, 230], [200, 40, 200], [120, 120, 120]],
                        dtype=np.uint8)


def collect_sim_weights(model: nn.Module,
                        img: Union[str, np.ndarray],
                        bbox: Optional[Sequence[float]] = None) -> Tuple:
    """Run a top-down SPCNet on one person and capture the SIM weights.

    Args:
        model (nn.Module): A top-down estimator whose neck is a
            :class:`SelectiveInformationModule` with ``fusion='attention'``
            (e.g. from :func:`mmpose.apis.init_model`).
        img (str | np.ndarray): Image path or BGR image.
        bbox (Sequence[float], optional): Person box ``x1, y1, x2, y2``;
            the whole image when None.

    Returns:
        tuple:
        - weights (np.ndarray): ``A_1..A_L`` in shape (L, h, w) at the
          heatmap resolution of the (un-flipped) network input; they sum to 1
          at every pixel (Eq. 3).
        - level_sizes (list[int]): Spatial size of each level's decoder
          feature before upsampling (16, 16, 32, 64 for SPCNet at 256 px).
        - data_sample (PoseDataSample): The prediction, with the input
          geometry (``input_center``, ``input_scale``).
    """
    # imported here: mmpose.apis pulls in the inferencers, not needed to
    # import the package
    from mmpose.apis import inference_topdown

    neck = getattr(model, 'neck', None)
    if getattr(neck, 'fusion', None) != 'attention':
        raise ValueError(
            f'{type(model).__name__} has no Selective Information Module '
            "with fusion='attention' (neck: "
            f'{type(neck).__name__}): only SPCNet-style configs have SIM '
            'weights to show')

    def _capture(module, inputs, output):
        # the SIM's output holds F only: recompute A from its input
        levels, _ = module.split(inputs[0])
        sizes = [lv[0].shape[-1] for lv in levels]
        return module.level_weights(inputs[0]).detach(), sizes

    bboxes = None if bbox is None else np.asarray([bbox], np.float32)
    # Under flip test the neck runs twice; the first call is un-flipped.
    with collect_forward(neck, _capture, max_calls=1) as captured, \
            torch.no_grad():
        data_sample = inference_topdown(model, img, bboxes)[0]
    weights, sizes = captured[0]
    return weights[0].cpu().numpy(), sizes, data_sample


def weights_to_image(weights: np.ndarray, img_shape: Tuple[int, int],
                     input_center, input_scale) -> np.ndarray:
    """Warp (L, h, w) maps from heatmap space onto the original image with
    the mapping MMPose uses for keypoints (``u * scale / w + center -
    scale / 2``); pixels outside the crop get NaN."""
    num, h, w = weights.shape
    sx, sy = np.asarray(input_scale, dtype=np.float64)
    cx, cy = np.asarray(input_center, dtype=np.float64)
    mat = np.array([[sx / w, 0, cx - sx / 2], [0, sy / h, cy - sy / 2]])
    size = (img_shape[1], img_shape[0])
    # heatmap pixel u covers [u - 1/2, u + 1/2): computed here rather than
    # by a nearest-neighbour warp, whose ties at those edges change with
    # the OpenCV release (5.1.0 takes one more column)
    u = (np.arange(size[0]) - (cx - sx / 2)) * w / sx
    v = (np.arange(size[1]) - (cy - sy / 2)) * h / sy
    inside = ((v >= -0.5) & (v < h - 0.5))[:, None] & \
        ((u >= -0.5) & (u < w - 0.5))[None, :]
    out = np.stack([
        # replicated border: crop-edge pixels keep weights that sum to 1
        cv2.warpAffine(m.astype(np.float32), mat, size,
                       flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE) for m in weights
    ])
    out[:, ~inside] = np.nan
    return out


def draw_sim_weights(img: np.ndarray,
                     weights: np.ndarray,
                     level_sizes: Optional[Sequence[int]] = None,
                     alpha: float = 0.6) -> np.ndarray:
    """Compose one row: the image, one overlay per weight map ``A_n`` (JET on
    the absolute scale 0..1, so maps are comparable; the title gives the
    mean weight inside the crop), and the per-pixel dominant level.

    Args:
        img (np.ndarray): BGR image, ``(H, W, 3)`` uint8.
        weights (np.ndarray): ``(L, H, W)`` maps in image space, NaN outside
            the person crop (see :func:`weights_to_image`).
        level_sizes (Sequence[int], optional): Level resolutions for titles.
        alpha (float): Overlay opacity. Default: 0.6.

    Returns:
        np.ndarray: The BGR canvas.
    """
    if weights.ndim != 3 or weights.shape[1:] != img.shape[:2]:
        raise ValueError(f'weights of shape {weights.shape} do not match '
                         f'the image {img.shape[:2]} (expected (L, H, W))')
    num = weights.shape[0]
    if num > len(LEVEL_COLORS):
        raise ValueError(f'at most {len(LEVEL_COLORS)} levels can be drawn, '
                         f'got {num}')
    inside = ~np.isnan(weights[0])
    level_sizes = level_sizes or [None] * num
    panels = [titled_panel(img, 'image', PANEL_HEIGHT)]
    for n, (m, size) in enumerate(zip(weights, level_sizes)):
        heat = jet(np.nan_to_num(m))
        blend = img.copy()
        blend[inside] = (alpha * heat[inside] +
                         (1 - alpha) * img[inside]).astype(np.uint8)
        res = f' ({size}px)' if size else ''
        mean = float(np.nanmean(m)) if inside.any() else float('nan')
        panels.append(
            titled_panel(blend, f'A{n + 1}{res} mean {mean:.2f}',
                         PANEL_HEIGHT))
    dominant = np.nan_to_num(weights, nan=-1.0).argmax(axis=0)
    blend = img.copy()
    blend[inside] = (alpha * LEVEL_COLORS[dominant[inside]] +
                     (1 - alpha) * img[inside]).astype(np.uint8)
    panels.append(titled_panel(blend, 'argmax_n A_n', PANEL_HEIGHT))
    return np.concatenate(panels, axis=1)


def save_sim_weights(model: nn.Module,
                     img: Union[str, np.ndarray],
                     out_file: str,
                     bbox: Optional[Sequence[float]] = None) -> np.ndarray:
    """Run ``model`` on one person of ``img`` and save the SIM weight maps
    A_1..A_L overlaid on the image as a PNG row (:func:`draw_sim_weights`).

    Returns:
        np.ndarray: The (L, h, w) weights in heatmap space.
    """
    image = cv2.imread(img) if isinstance(img, str) else img
    if image is None:
        raise FileNotFoundError(f'cannot read image {img!r}')
    weights, sizes, data_sample = collect_sim_weights(model, image, bbox)
    meta = data_sample.metainfo
    mapped = weights_to_image(weights, image.shape[:2], meta['input_center'],
                              meta['input_scale'])
    canvas = draw_sim_weights(image, mapped, sizes)
    if not cv2.imwrite(out_file, canvas):
        raise OSError(f'could not write {out_file}')
    return weights

