# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Pictures of SAMKR's subspace attention maps (Eq. 9): for each chosen
keypoint, the image with that keypoint's predictions, then one overlay per
subspace of its regression branch."""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torch import nn

from mmpose.apis import inference_bottomup

from .panels import TITLE_HEIGHT  # noqa: F401 (re-exported for callers)
from .panels import collect_forward, jet_overlay, titled_panel

PANEL_HEIGHT = 192


def _resolve_keypoints(keypoints: Optional[Sequence[Union[int, str]]],
                       dataset_meta: dict, num_keypoints: int) -> List[int]:
    """Keypoint ids from ids or names (``left_wrist``); all when None."""
    if not keypoints:
        return list(range(num_keypoints))
    name2id = (dataset_meta or {}).get('keypoint_name2id', {})
    ids = []
    for kpt in keypoints:
        if isinstance(kpt, str) and not kpt.lstrip('-').isdigit():
            if kpt not in name2id:
                raise ValueError(
                    f'unknown keypoint name {kpt!r}; the dataset has '
                    f'{sorted(name2id, key=name2id.get)}')
            ids.append(name2id[kpt])
        else:
            ids.append(int(kpt))
    bad = [i for i in ids if not 0 <= i < num_keypoints]
    if bad:
        raise ValueError(f'keypoint ids {bad} out of range: the model has '
                         f'{num_keypoints} keypoints (0..{num_keypoints - 1})')
    return ids


def collect_subspace_attention(
        model: nn.Module,
        img: Union[str, np.ndarray],
        keypoints: Optional[Sequence[Union[int, str]]] = None) -> Tuple:
    """Run a SAMKR bottom-up model on one image and return the subspace
    attention maps of the chosen keypoints.

    Args:
        model (nn.Module): A :class:`BottomupPoseEstimator` with a
            :class:`SAMKRHead` (e.g. from :func:`mmpose.apis.init_model`).
        img (str | np.ndarray): Image path or BGR image.
        keypoints (Sequence[int | str], optional): Keypoint ids or names;
            all when None.

    Returns:
        tuple:
        - attn (np.ndarray): Maps in shape (len(keypoints), g, h, w) at the
          heatmap resolution of the (un-flipped) network input; each map sums
          to 1. A single-branch model (``disentangled=False``) has one
          branch shared by all keypoints: its maps are returned for every
          chosen keypoint.
        - keypoint_ids (list[int]): The chosen keypoint ids.
        - data_sample (PoseDataSample): The prediction, with the input
          geometry (``input_size``, ``input_center``, ``input_scale``).
    """
    head = getattr(model, 'head', None)
    sam = getattr(head, 'subspace_attention', None)
    if sam is None:
        raise ValueError(
            f'{type(head).__name__} has no subspace attention: the config '
            'must use SAMKRHead with attention_cfg set')

    kpt_ids = _resolve_keypoints(keypoints, model.dataset_meta,
                                 head.num_keypoints)

    def _capture(module, inputs, output):
        return module.attention_maps(inputs[0]).detach()

    # Under flip test the head runs twice; the first call is un-flipped.
    with collect_forward(sam, _capture, max_calls=1) as captured, \
            torch.no_grad():
        data_sample = inference_bottomup(model, img)[0]
    attn = captured[0][0]  # (num_branches, g, h, w)
    branch_ids = kpt_ids if attn.shape[0] > 1 else [0] * len(kpt_ids)
    return attn[branch_ids].cpu().numpy(), kpt_ids, data_sample


def attention_sharpness(attn: np.ndarray) -> dict:
    """How far subspace attention maps are from uniform.

    Args:
        attn (np.ndarray): Maps in shape (..., h, w), each summing to 1 (as
            :func:`collect_subspace_attention` returns them).

    Returns:
        dict: Arrays of shape ``attn.shape[:-2]``: ``peak_ratio``, a map's
        maximum as a multiple of a uniform map's ``1/(h*w)`` (1 = uniform),
        and ``entropy_ratio``, its entropy over ``log(h*w)`` (1 = uniform,
        0 = a single position).
    """
    flat = attn.reshape(*attn.shape[:-2], -1).astype(np.float64)
    n = flat.shape[-1]
    entropy = -(flat * np.log(np.clip(flat, 1e-300, None))).sum(-1)
    return dict(peak_ratio=flat.max(-1) * n, entropy_ratio=entropy / np.log(n))


def _to_image_space(heat: np.ndarray, img_shape: Tuple[int, int],
                    input_size, input_center, input_scale) -> np.ndarray:
    """Warp a map from network-output space back onto the original image,
    inverting BottomupResize as BottomupPoseEstimator does for keypoints."""
    h, w = heat.shape
    sx, sy = np.asarray(input_scale, dtype=np.float64)
    cx, cy = np.asarray(input_center, dtype=np.float64)
    # image (x, y) -> map (u, v)
    mat = np.array([[w / sx, 0, (sx / 2 - cx) * w / sx],
                    [0, h / sy, (sy / 2 - cy) * h / sy]])
    return cv2.warpAffine(
        heat.astype(np.float32),
        mat, (img_shape[1], img_shape[0]),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


def draw_subspace_attention(img: np.ndarray,
                            attn: np.ndarray,
                            keypoint_ids: Sequence[int],
                            data_sample,
                            keypoint_names: Optional[dict] = None,
                            alpha: float = 0.55) -> np.ndarray:
    """Compose a grid: one row per keypoint; the first column is the image
    with that keypoint's predictions (circle radius ~ score), the next ``g``
    columns overlay each subspace's attention map (JET, normalised to its own
    maximum; the title gives that peak as a multiple of a uniform map's and
    the entropy as a fraction of a uniform map's, see
    :func:`attention_sharpness`).

    Args:
        img (np.ndarray): The original BGR image.
        attn (np.ndarray): Maps from :func:`collect_subspace_attention`.
        keypoint_ids (Sequence[int]): Keypoint id of each row of ``attn``.
        data_sample (PoseDataSample): The prediction of ``img``.
        keypoint_names (dict, optional): id -> name for titles.
        alpha (float): Overlay opacity. Defaults to 0.55.

    Returns:
        np.ndarray: The BGR canvas.
    """
    meta = data_sample.metainfo
    geometry = (meta['input_size'], meta['input_center'], meta['input_scale'])
    pred = data_sample.pred_instances
    keypoint_names = keypoint_names or {}
    sharpness = attention_sharpness(attn)
    rows = []
    for row, (maps, kpt_id) in enumerate(zip(attn, keypoint_ids)):
        name = keypoint_names.get(kpt_id, str(kpt_id))
        marked = img.copy()
        for (x, y), score in zip(pred.keypoints[:, kpt_id],
                                 pred.keypoint_scores[:, kpt_id]):
            cv2.circle(marked, (int(x), int(y)),
                       max(2, int(4 + 8 * float(score))), (0, 255, 0), 2)
        panels = [
            titled_panel(marked, f'{name} (predicted)', PANEL_HEIGHT)
        ]
        for j, heat in enumerate(maps):
            ratio = sharpness['peak_ratio'][row, j]
            entropy = sharpness['entropy_ratio'][row, j]
            heat = _to_image_space(heat, img.shape[:2], *geometry)
            peak = float(heat.max())
            # normalised to its own peak; jet() clips, so a map <= 0 is blue
            overlay = jet_overlay(img, heat / peak if peak > 0 else heat,
                                  alpha)
            panels.append(
                titled_panel(overlay,
                             f's{j} peak {ratio:.1f}x H {entropy:.3f}',
                             PANEL_HEIGHT))
        rows.append(np.concatenate(panels, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [
        np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)),
               constant_values=255) for r in rows
    ]
    return np.concatenate(rows, axis=0)


def save_subspace_attention(model: nn.Module,
                            img_path: str,
                            out_file: str,
                            keypoints: Optional[Sequence[Union[int,
                                                               str]]] = None
                            ) -> np.ndarray:
    """Infer ``img_path`` with a SAMKR model and save the subspace attention
    maps of ``keypoints`` as a PNG at ``out_file``.

    Returns:
        np.ndarray: The maps saved, (len(keypoints), g, h, w).
    """
    img = cv2.imread(img_path)
    if img is None:
        raise FileNotFoundError(f'cannot read image {img_path}')
    attn, kpt_ids, data_sample = collect_subspace_attention(
        model, img_path, keypoints)
    names = (model.dataset_meta or {}).get('keypoint_id2name', {})
    canvas = draw_subspace_attention(img, attn, kpt_ids, data_sample, names)
    if not cv2.imwrite(out_file, canvas):
        raise OSError(f'cannot write {out_file}')
    return attn
