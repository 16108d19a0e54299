"""Shared pieces of the ``.mat`` -> COCO keypoint json converters.

Kept free of torch/mmcv imports so that converting needs only numpy, scipy
and Pillow.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np


def load_mat(path: str, variable: str, **kwargs) -> np.ndarray:
    """``scipy.io.loadmat(path)[variable]`` with errors that name the file."""
    from scipy.io import loadmat
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: file not found')
    try:
        mat = loadmat(path, **kwargs)
    except Exception as e:  # scipy raises several types for non-.mat files
        raise ValueError(f'{path}: not a readable MATLAB .mat file ({e})')
    if variable not in mat:
        found = sorted(k for k in mat if not k.startswith('__'))
        raise ValueError(f'{path}: no variable "{variable}" (found {found})')
    return mat[variable]


def image_size(path: str) -> tuple:
    """(width, height) read from the image header."""
    from PIL import Image
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: image not found')
    try:
        with Image.open(path) as img:
            return img.size
    except Exception as e:
        raise ValueError(f'{path}: unreadable image ({e})')


def keypoints_bbox(keypoints: np.ndarray, width: int, height: int,
                   margin: float) -> List[float]:
    """COCO ``[x, y, w, h]`` around the labelled (v > 0) keypoints, each side
    padded by ``margin * max(w, h)`` of the tight box and clipped to the
    image. ``keypoints`` is [K, 3] (x, y, v)."""
    xy = keypoints[keypoints[:, 2] > 0, :2]
    x1, y1 = xy.min(axis=0)
    x2, y2 = xy.max(axis=0)
    pad = margin * max(x2 - x1, y2 - y1)
    x1, y1 = max(x1 - pad, 0.), max(y1 - pad, 0.)
    x2, y2 = min(x2 + pad, float(width)), min(y2 + pad, float(height))
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def coco_annotation(ann_id: int, image_id: int, keypoints: np.ndarray,
                    bbox: Sequence[float], **extra) -> dict:
    """One person annotation; ``keypoints`` is [K, 3] (x, y, v)."""
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=1,
        keypoints=[round(float(v), 3) for v in keypoints.reshape(-1)],
        num_keypoints=int((keypoints[:, 2] > 0).sum()),
        bbox=[round(v, 3) for v in bbox],
        area=round(float(bbox[2] * bbox[3]), 3),
        iscrowd=0,
        **extra)


def write_coco(path: str, images: List[dict], annotations: List[dict],
               keypoint_names: Sequence[str],
               skeleton: Sequence[Sequence[int]], description: str,
               **info) -> None:
    """Write a COCO keypoint json; ``skeleton`` holds 0-based index pairs
    (stored 1-based, as COCO does); ``info`` goes to its ``info`` beside
    ``description``."""
    category = dict(id=1, name='person', supercategory='person',
                    keypoints=list(keypoint_names),
                    skeleton=[[a + 1, b + 1] for a, b in skeleton])
    coco: Dict = dict(info=dict(description=description, **info),
                      images=images, annotations=annotations,
                      categories=[category])
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(coco, f)
    print(f'wrote {path}: {len(images)} images, {len(annotations)} persons')
