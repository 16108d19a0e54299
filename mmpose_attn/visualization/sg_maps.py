"""Pictures of SG-HRNet's segmentation/attention maps (Tang et al., TS 2024,
Sec. 3.2): the map of every Segmentation Guided Module next to the
ground-truth keypoint segmentation target (Eq. 2)."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from torch import nn

from .panels import jet_overlay, titled_panel

SG_MAP_NAMES = ('stage 2', 'stage 3', 'stage 4', 'final')


def load_coco_instance(ann_file: str, img_path: str,
                       instance: int = 0) -> Dict[str, np.ndarray]:
    """Bbox (1, 4) xyxy, keypoints (1, K, 2) and visibility (1, K) of the
    ``instance``-th annotated person of ``img_path`` in a COCO json."""
    with open(ann_file) as f:
        coco = json.load(f)
    name = osp.basename(img_path)
    image_ids = [
        img['id'] for img in coco.get('images', [])
        if osp.basename(img['file_name']) == name
    ]
    if not image_ids:
        raise ValueError(f'{ann_file}: no image with file_name {name!r}')
    people = [
        a for a in coco.get('annotations', [])
        if a['image_id'] == image_ids[0] and a.get('num_keypoints', 0) > 0
    ]
    if instance >= len(people):
        raise ValueError(
            f'{ann_file}: image {name!r} has {len(people)} annotated people '
            f'with keypoints, asked for instance {instance}')
    ann = people[instance]
    x, y, w, h = ann['bbox']
    kpts = np.asarray(ann['keypoints'], dtype=np.float32).reshape(1, -1, 3)
    return dict(
        bbox=np.array([[x, y, x + w, y + h]], dtype=np.float32),
        keypoints=kpts[..., :2],
        keypoints_visible=(kpts[..., 2] > 0).astype(np.float32))


@torch.no_grad()
def predict_sg_maps(model: nn.Module, img_path: str, bbox: np.ndarray,
                    keypoints: Optional[np.ndarray] = None,
                    keypoints_visible: Optional[np.ndarray] = None
                    ) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Run a top-down SG-HRNet model on one person box.

    Args:
        model: A top-down pose estimator with an :class:`SGHRNet` backbone,
            ``model.cfg`` set (as ``mmpose.apis.init_model`` does) and a
            decoder that returns ``seg_map`` (:class:`SegmentationHeatmap`).
        img_path (str): Image file.
        bbox (np.ndarray): (1, 4) person box, xyxy, image pixels.
        keypoints (np.ndarray, optional): (1, K, 2) annotated keypoints for
            the ground-truth target.
        keypoints_visible (np.ndarray, optional): (1, K) visibility.

    Returns:
        tuple: the input crop (h, w, 3) BGR uint8, the predicted maps
        (S, H, W) in [0, 1], and the target (H, W) or ``None`` without
        keypoints.
    """
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = dict(img_path=img_path, bbox=bbox, bbox_score=np.ones(1))
    if keypoints is not None:
        data.update(
            keypoints=keypoints,
            keypoints_visible=keypoints_visible if keypoints_visible
            is not None else np.ones(keypoints.shape[:2], np.float32))
    data.update(model.dataset_meta or {})
    pack = pipeline.transforms[-1]
    results = pipeline.transforms[0](data)
    for transform in pipeline.transforms[1:-1]:
        results = transform(results)
    crop = results['img'].copy()
    batch = model.data_preprocessor(
        pseudo_collate([pack(results)]), training=False)
    backbone = getattr(model, 'backbone', None)
    if not hasattr(backbone, 'forward_with_maps'):
        raise TypeError(
            f'{type(backbone).__name__} gives no segmentation maps; the '
            'model needs an SGHRNet backbone')
    _, seg_logits = backbone.forward_with_maps(batch['inputs'])
    seg_maps = torch.sigmoid(seg_logits[0].float()).cpu().numpy()

    target = None
    if keypoints is not None:
        codec = model.head.decoder
        visible = results['keypoints_visible']
        if visible.ndim == 3:
            # a KeypointConverter's (visible, mapped) pairs, combined as
            # GenerateTarget does
            visible = visible[..., 0] * visible[..., 1]
        encoded = codec.encode(results['transformed_keypoints'], visible)
        if 'seg_map' not in encoded:
            raise TypeError(
                f'{type(codec).__name__} gives no `seg_map`; the model\'s '
                'head decoder must be a SegmentationHeatmap codec')
        target = encoded['seg_map'][0]
    return crop, seg_maps, target


def _map_panel(crop: np.ndarray, prob: np.ndarray, title: str,
               alpha: float) -> np.ndarray:
    """A map upsampled (nearest) onto the crop as a titled JET overlay."""
    h, w = crop.shape[:2]
    prob = cv2.resize(
        prob.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
    return titled_panel(jet_overlay(crop, prob, alpha), title)


def draw_sg_maps(crop: np.ndarray,
                 seg_maps: np.ndarray,
                 target: Optional[np.ndarray] = None,
                 names: Sequence[str] = SG_MAP_NAMES,
                 alpha: float = 0.6,
                 min_width: int = 160) -> np.ndarray:
    """One row of panels: the input crop, each predicted map and, if given,
    the ground-truth target, each map overlaid on the crop with a JET
    colormap (blue 0 to red 1). Crops narrower than ``min_width`` are
    enlarged by an integer factor (nearest) so the titles fit.

    Args:
        crop (np.ndarray): (h, w, 3) BGR uint8 network input.
        seg_maps (np.ndarray): (S, H, W) maps in [0, 1].
        target (np.ndarray, optional): (H, W) target in {0, 1}.
        names (Sequence[str]): Titles of the S maps.
        alpha (float): Colormap opacity.

    Returns:
        np.ndarray: The BGR uint8 picture.
    """
    if seg_maps.ndim != 3 or len(seg_maps) != len(names):
        raise ValueError(f'seg_maps must be (S, H, W) with S = {len(names)} '
                         f'titles, got shape {seg_maps.shape}')
    factor = max(1, int(np.ceil(min_width / crop.shape[1])))
    crop = cv2.resize(
        crop, (crop.shape[1] * factor, crop.shape[0] * factor),
        interpolation=cv2.INTER_NEAREST)
    panels: List[np.ndarray] = [titled_panel(crop, 'input')]
    panels += [
        _map_panel(crop, m, f'{name}  max {m.max():.2f}', alpha)
        for name, m in zip(names, seg_maps)
    ]
    if target is not None:
        panels.append(_map_panel(crop, target, 'ground truth', alpha))
    gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
    row = [p for panel in panels for p in (panel, gap)][:-1]
    return np.concatenate(row, axis=1)


def save_sg_maps(out_file: str, *args, **kwargs) -> np.ndarray:
    """:func:`draw_sg_maps` written as an image file (PNG by extension)."""
    canvas = draw_sg_maps(*args, **kwargs)
    mmcv.imwrite(canvas, out_file)
    return canvas
