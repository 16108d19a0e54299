"""Convert LSP and LSP-extended ``joints.mat`` to COCO keypoint json for
:class:`mmpose_attn.datasets.LspDataset`.

Expected layout (the archives' own folder names)::

    DATA_ROOT/
      lsp_dataset/joints.mat     3 x 14 x 2000, rows x, y, flag
      lsp_dataset/images/im0001.jpg ... im2000.jpg
      lspet_dataset/joints.mat   14 x 3 x 10000, columns x, y, flag
      lspet_dataset/images/im00001.jpg ... im10000.jpg

Writes ``lsp_train.json`` (LSP images 1-1000 + all of LSP-extended, the 11K
training set of SPCNet/SADI-Net) and ``lsp_test.json`` (LSP images
1001-2000). The visibility flags of the two files are opposite: in LSP
``flag = 1`` marks an OCCLUDED joint whose position is still annotated
(stored with v = 1), ``0`` a visible one (v = 2); in LSP-extended ``flag = 1``
marks a VISIBLE joint (v = 2) and ``0`` an invisible, unlabelled one (v = 0).
"""
import argparse
import os.path as osp
from typing import List, Tuple

import numpy as np
from tqdm import tqdm

from .coco_keypoints import (coco_annotation, image_size, keypoints_bbox,
                             load_mat, write_coco)

LSP_KEYPOINTS = [
    'right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee',
    'left_ankle', 'right_wrist', 'right_elbow', 'right_shoulder',
    'left_shoulder', 'left_elbow', 'left_wrist', 'neck', 'head_top'
]
LSP_SKELETON = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (2, 8), (3, 9),
                (6, 7), (7, 8), (8, 12), (9, 12), (9, 10), (10, 11), (12, 13)]
# LSP-extended image ids start here so both sets share one training json.
LSPET_ID_OFFSET = 10000


def load_joints(path: str, extended: bool) -> np.ndarray:
    """Joints of ``path`` as [N, 14, 3] (x, y, flag) in the .mat's own
    1-based coordinates, after checking the layout of the file."""
    joints = np.asarray(load_mat(path, 'joints'), dtype=np.float64)
    layout = '14 x 3 x N' if extended else '3 x 14 x N'
    expected = (14, 3) if extended else (3, 14)
    if joints.ndim != 3 or joints.shape[:2] != expected:
        other = ('--lsp-dir (3 x 14 x N)' if extended else
                 '--lspet-dir (14 x 3 x N)')
        raise ValueError(
            f'{path}: "joints" has shape {joints.shape}, expected {layout} '
            f'for {"LSP-extended" if extended else "LSP"}; is it the file '
            f'of {other}?')
    joints = joints.transpose(2, 0, 1) if extended else joints.transpose(
        2, 1, 0)
    flags = joints[..., 2]
    if not np.isin(flags, (0, 1)).all():
        raise ValueError(f'{path}: visibility flags must be 0 or 1, found '
                         f'{np.unique(flags)[:10].tolist()}')
    return joints


def to_coco_keypoints(joints: np.ndarray, extended: bool) -> np.ndarray:
    """[N, 14, 3] .mat joints -> [N, 14, 3] 0-based (x, y, COCO v)."""
    flags = joints[..., 2]
    if extended:
        v = np.where(flags == 1, 2., 0.)
    else:
        v = np.where(flags == 0, 2., 1.)
    v[~np.isfinite(joints[..., :2]).all(-1)] = 0.
    xy = np.where(v[..., None] > 0, joints[..., :2] - 1., 0.)
    return np.concatenate([xy, v[..., None]], axis=-1)


def convert_split(data_root: str, image_dir: str, keypoints: np.ndarray,
                  indices: range, name_fmt: str, id_offset: int,
                  margin: float, desc: str) -> Tuple[List[dict], List[dict]]:
    images, annotations = [], []
    skipped = 0
    for i in tqdm(indices, desc=desc, unit='img'):
        path = osp.join(image_dir, name_fmt.format(i + 1))
        width, height = image_size(path)
        kpts = keypoints[i]
        if not (kpts[:, 2] > 0).any():
            skipped += 1
            continue
        img_id = id_offset + i + 1
        images.append(
            dict(
                id=img_id,
                file_name=osp.relpath(path, data_root),
                width=width,
                height=height))
        annotations.append(
            coco_annotation(img_id, img_id, kpts,
                            keypoints_bbox(kpts, width, height, margin)))
    if skipped:
        print(f'{desc}: skipped {skipped} images without a labelled joint')
    return images, annotations


def convert(data_root: str,
            out_dir: str,
            lsp_dir: str = None,
            lspet_dir: str = None,
            use_lspet: bool = True,
            num_train: int = 1000,
            margin: float = 0.1) -> None:
    lsp_dir = lsp_dir or osp.join(data_root, 'lsp_dataset')
    lspet_dir = lspet_dir or osp.join(data_root, 'lspet_dataset')

    lsp_mat = osp.join(lsp_dir, 'joints.mat')
    lsp = to_coco_keypoints(load_joints(lsp_mat, extended=False), False)
    if len(lsp) <= num_train:
        raise ValueError(f'{lsp_mat}: {len(lsp)} images, but the first '
                         f'{num_train} are the training split and the rest '
                         'the test split')
    lsp_images = osp.join(lsp_dir, 'images')
    train = convert_split(data_root, lsp_images, lsp, range(num_train),
                          'im{:04d}.jpg', 0, margin, 'LSP train')
    test = convert_split(data_root, lsp_images, lsp,
                         range(num_train, len(lsp)), 'im{:04d}.jpg', 0,
                         margin, 'LSP test')
    if use_lspet:
        lspet_mat = osp.join(lspet_dir, 'joints.mat')
        lspet = to_coco_keypoints(load_joints(lspet_mat, extended=True), True)
        ext = convert_split(data_root, osp.join(lspet_dir, 'images'), lspet,
                            range(len(lspet)), 'im{:05d}.jpg',
                            LSPET_ID_OFFSET, margin, 'LSP-extended train')
        train = (train[0] + ext[0], train[1] + ext[1])

    write_coco(
        osp.join(out_dir, 'lsp_train.json'), *train, LSP_KEYPOINTS,
        LSP_SKELETON, f'LSP images 1-{num_train}' +
        (' + LSP-extended' if use_lspet else '') + ', from joints.mat')
    write_coco(
        osp.join(out_dir, 'lsp_test.json'), *test, LSP_KEYPOINTS,
        LSP_SKELETON, f'LSP images {num_train + 1}-{len(lsp)}, from '
        'joints.mat')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'data_root',
        help='folder holding lsp_dataset/ and lspet_dataset/; image paths in '
        'the json are relative to it (use it as data_root, with '
        "data_prefix=dict(img=''))")
    parser.add_argument(
        '--out-dir', help='output folder (default: DATA_ROOT/annotations)')
    parser.add_argument(
        '--lsp-dir', help='LSP folder (default: DATA_ROOT/lsp_dataset)')
    parser.add_argument(
        '--lspet-dir',
        help='LSP-extended folder (default: DATA_ROOT/lspet_dataset)')
    parser.add_argument(
        '--no-lspet',
        action='store_true',
        help='train on the 1000 LSP training images only')
    parser.add_argument(
        '--num-train',
        type=int,
        default=1000,
        help='the first NUM_TRAIN LSP images are the training split')
    parser.add_argument(
        '--margin',
        type=float,
        default=0.1,
        help='bbox padding per side, as a fraction of the longer side of '
        'the tight box around the labelled joints')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    convert(
        args.data_root,
        args.out_dir or osp.join(args.data_root, 'annotations'),
        lsp_dir=args.lsp_dir,
        lspet_dir=args.lspet_dir,
        use_lspet=not args.no_lspet,
        num_train=args.num_train,
        margin=args.margin)


if __name__ == '__main__':
    main()
