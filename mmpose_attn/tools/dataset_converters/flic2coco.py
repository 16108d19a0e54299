"""Convert FLIC ``examples.mat`` to COCO keypoint json for
:class:`mmpose_attn.datasets.FlicDataset`.

Expected layout (the FLIC archive)::

    FLIC_ROOT/examples.mat   struct array "examples" (1 x 5003) with fields
                             coords (2 x 29), filepath, imgdims ([h w c]),
                             istrain, istest, torsobox ([x1 y1 x2 y2]), ...
    FLIC_ROOT/images/<filepath>

Writes ``flic_train.json`` (``istrain``, 3987 frames) and ``flic_test.json``
(``istest``, 1016 frames). Of the 29 ``coords`` slots FLIC labels 11; they
are kept in slot order: lsho=1, lelb=2, lwri=3, rsho=4, relb=5, rwri=6,
lhip=7, rhip=10, leye=13, reye=14, nose=17 (1-based). A NaN coordinate
becomes an unlabelled joint (v = 0); FLIC marks no occlusion, so every
labelled joint gets v = 2.
"""
import argparse
import os.path as osp

import numpy as np
from tqdm import tqdm

from .._output import add_force_argument, check_output_path
from .coco_keypoints import (coco_annotation, keypoints_bbox, load_mat,
                             write_coco)

FLIC_KEYPOINTS = [
    'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder',
    'right_elbow', 'right_wrist', 'left_hip', 'right_hip', 'left_eye',
    'right_eye', 'nose'
]
# 1-based MATLAB slots of FLIC_KEYPOINTS in examples.coords.
FLIC_SLOTS = [1, 2, 3, 4, 5, 6, 7, 10, 13, 14, 17]
FLIC_SKELETON = [(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (0, 6), (3, 7),
                 (6, 7), (8, 9), (8, 10), (9, 10)]
REQUIRED_FIELDS = ('coords', 'filepath', 'imgdims', 'istrain', 'istest',
                   'torsobox')


def load_examples(path: str) -> np.ndarray:
    """The ``examples`` struct array of ``path`` as a 1-D structured array,
    after checking its fields."""
    examples = load_mat(path, 'examples', squeeze_me=True)
    names = examples.dtype.names or ()
    missing = [f for f in REQUIRED_FIELDS if f not in names]
    if missing:
        raise ValueError(f'{path}: "examples" lacks the field(s) {missing} '
                       f'(has {list(names)})')
    return np.atleast_1d(examples)


def example_keypoints(path: str, index: int, coords) -> np.ndarray:
    """[11, 3] 0-based (x, y, v) from one example's 2 x 29 ``coords``."""
    coords = np.asarray(coords, dtype=np.float64)
    if coords.shape != (2, 29):
        raise ValueError(f'{path}: examples({index + 1}).coords has shape '
                         f'{coords.shape}, expected (2, 29)')
    xy = coords[:, np.array(FLIC_SLOTS) - 1].T
    labelled = np.isfinite(xy).all(axis=1)
    v = np.where(labelled, 2., 0.)
    xy = np.where(labelled[:, None], xy - 1., 0.)
    return np.concatenate([xy, v[:, None]], axis=1)


def convert(flic_root: str, out_dir: str, margin: float = 0.2,
            force: bool = False) -> None:
    for split in ('train', 'test'):  # refuse before the slow conversion
        check_output_path(osp.join(out_dir, f'flic_{split}.json'), force)
    mat = osp.join(flic_root, 'examples.mat')
    examples = load_examples(mat)
    splits = {'train': ([], []), 'test': ([], [])}
    missing_images = []
    for i, ex in enumerate(tqdm(examples, desc='FLIC', unit='img')):
        split = ('train' if ex['istrain'] else
                 'test' if ex['istest'] else None)
        if split is None:
            continue
        kpts = example_keypoints(mat, i, ex['coords'])
        if not (kpts[:, 2] > 0).any():
            continue
        file_name = osp.join('images', str(ex['filepath']))
        if not osp.isfile(osp.join(flic_root, file_name)):
            missing_images.append(file_name)
        dims = np.asarray(ex['imgdims']).reshape(-1)
        if dims.size < 2:
            raise ValueError(f'{mat}: examples({i + 1}).imgdims is '
                             f'{dims.tolist()}, expected [height width ...]')
        height, width = int(dims[0]), int(dims[1])
        x1, y1, x2, y2 = np.asarray(ex['torsobox'], np.float64).reshape(4)
        images, annotations = splits[split]
        images.append(
            dict(id=i + 1, file_name=file_name, width=width, height=height))
        torso = [float(x1 - 1.), float(y1 - 1.), float(x2 - x1),
                 float(y2 - y1)]
        annotations.append(coco_annotation(
            i + 1, i + 1, kpts, keypoints_bbox(kpts, width, height, margin),
            torso_bbox=torso))
    if missing_images:
        raise FileNotFoundError(
            f'{len(missing_images)} images named in {mat} are missing under '
            f'{flic_root}, e.g. {missing_images[0]}')
    for split, (images, annotations) in splits.items():
        write_coco(
            osp.join(out_dir, f'flic_{split}.json'), images, annotations,
            FLIC_KEYPOINTS, FLIC_SKELETON,
            f'FLIC examples with is{split}, from examples.mat')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'flic_root',
        help='FLIC folder holding examples.mat and images/; image paths in '
        'the json are relative to it (use it as data_root, with '
        "data_prefix=dict(img=''))")
    parser.add_argument(
        '--out-dir', help='output folder (default: FLIC_ROOT/annotations)')
    parser.add_argument(
        '--margin', type=float, default=0.2,
        help='bbox padding per side, as a fraction of the longer side of '
        'the tight box around the labelled joints (FLIC labels no head top, '
        'hence more than LSP)')
    add_force_argument(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    convert(args.flic_root, args.out_dir
            or osp.join(args.flic_root, 'annotations'), args.margin,
            args.force)


if __name__ == '__main__':
    main()
