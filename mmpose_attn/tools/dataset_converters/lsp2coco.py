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
1001-2000).

With ``--val-count N`` it reads LSP-extended alone (``--lspet-dir``, no LSP
folder needed) and splits its images with a labelled joint at random
(``--split-seed``) into ``lspet_train.json`` and ``lspet_val.json`` (N
images), for training on images the model is then validated on never seeing
them; each file's ``info.split`` records the seed and both sets' image ids::

    python -m mmpose_attn.tools.dataset_converters.lsp2coco \\
        --lspet-dir ../shared/data/lspet_300/lspet_dataset \\
        --out-dir work_dirs/heldout/lspet_300 --val-count 50 --split-seed 0

Image paths are relative to the folder holding ``lspet_dataset/`` (here
``../shared/data/lspet_300``: the ``data_root`` of the training configs).
Existing output files are only overwritten with ``--force``.

The visibility flags of the two files are opposite: in LSP
``flag = 1`` marks an OCCLUDED joint whose position is still annotated
(stored with v = 1), ``0`` a visible one (v = 2); in LSP-extended ``flag = 1``
marks a VISIBLE joint (v = 2) and ``0`` an invisible, unlabelled one (v = 0).
"""
import argparse
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from .._output import add_force_argument, check_output_path
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
                  indices: Sequence[int], name_fmt: str, id_offset: int,
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
        images.append(dict(id=img_id, file_name=osp.relpath(path, data_root),
                           width=width, height=height))
        annotations.append(
            coco_annotation(img_id, img_id, kpts,
                            keypoints_bbox(kpts, width, height, margin)))
    if skipped:
        print(f'{desc}: skipped {skipped} images without a labelled joint')
    return images, annotations


def convert(data_root: str, out_dir: str, lsp_dir: str = None,
            lspet_dir: str = None, use_lspet: bool = True,
            num_train: int = 1000, margin: float = 0.1,
            force: bool = False) -> None:
    lsp_dir = lsp_dir or osp.join(data_root, 'lsp_dataset')
    lspet_dir = lspet_dir or osp.join(data_root, 'lspet_dataset')
    train_json, test_json = (check_output_path(
        osp.join(out_dir, f'lsp_{name}.json'), force)
                             for name in ('train', 'test'))

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
        str(train_json), *train, LSP_KEYPOINTS,
        LSP_SKELETON, f'LSP images 1-{num_train}' +
        (' + LSP-extended' if use_lspet else '') + ', from joints.mat')
    write_coco(
        str(test_json), *test, LSP_KEYPOINTS,
        LSP_SKELETON, f'LSP images {num_train + 1}-{len(lsp)}, from '
        'joints.mat')


def split_lspet(lspet_dir: str, out_dir: str, val_count: int,
                split_seed: int = 0, data_root: Optional[str] = None,
                margin: float = 0.1,
                force: bool = False) -> Tuple[List[int], List[int]]:
    """Split LSP-extended alone into ``lspet_train.json`` and
    ``lspet_val.json`` in ``out_dir``.

    The images with at least one labelled joint are shuffled by
    ``numpy.random.default_rng(split_seed)``; the first ``val_count`` are the
    validation set, the rest the training set (each sorted by image id, which
    is ``LSPET_ID_OFFSET`` + the image number, as in ``lsp_train.json``).
    Unlabelled joints (flag 0) are v = 0, which no metric scores.

    Args:
        lspet_dir (str): folder with ``joints.mat`` (14 x 3 x N) and
            ``images/im00001.jpg``...
        out_dir (str): where the two files go.
        val_count (int): number of validation images, below the number of
            images with a labelled joint.
        split_seed (int): seed of the shuffle. Default: 0.
        data_root (str, optional): the json's image paths are relative to
            it. Default: the folder holding ``lspet_dir``.
        margin (float): bbox padding, see :func:`keypoints_bbox`.
        force (bool): overwrite existing output files.

    Returns:
        tuple[list[int], list[int]]: training and validation image ids.
    """
    data_root = data_root or osp.dirname(osp.abspath(lspet_dir))
    paths = [
        check_output_path(osp.join(out_dir, f'lspet_{name}.json'), force)
        for name in ('train', 'val')
    ]
    mat = osp.join(lspet_dir, 'joints.mat')
    keypoints = to_coco_keypoints(load_joints(mat, extended=True), True)
    labelled = np.flatnonzero((keypoints[..., 2] > 0).any(axis=1))
    if not 0 < val_count < len(labelled):
        raise ValueError(
            f'{mat}: --val-count must be at least 1 and below the number of '
            f'images with a labelled joint ({len(labelled)} of '
            f'{len(keypoints)}), got {val_count}')
    order = np.random.default_rng(split_seed).permutation(labelled)
    val_idx = np.sort(order[:val_count])
    train_idx = np.sort(order[val_count:])
    image_dir = osp.join(lspet_dir, 'images')
    # every image is checked before anything is written
    train = convert_split(data_root, image_dir, keypoints, train_idx.tolist(),
                          'im{:05d}.jpg', LSPET_ID_OFFSET, margin,
                          'LSP-extended train')
    val = convert_split(data_root, image_dir, keypoints, val_idx.tolist(),
                        'im{:05d}.jpg', LSPET_ID_OFFSET, margin,
                        'LSP-extended val')
    train_ids = [im['id'] for im in train[0]]
    val_ids = [im['id'] for im in val[0]]
    split = dict(source=osp.abspath(mat), seed=split_seed,
                 num_images=len(keypoints), num_labelled=len(labelled),
                 train_ids=train_ids, val_ids=val_ids)
    for path, (images, anns), name in zip(paths, (train, val),
                                          ('train', 'val')):
        write_coco(
            str(path), images, anns, LSP_KEYPOINTS, LSP_SKELETON,
            f'LSP-extended {name} split ({len(images)} of '
            f'{len(labelled)} labelled images, val {val_count}, seed '
            f'{split_seed}), from {mat}', split=dict(split, subset=name))
    return train_ids, val_ids


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add('data_root', nargs='?',
        help='folder holding lsp_dataset/ and lspet_dataset/; image paths in '
        'the json are relative to it (use it as data_root, with '
        "data_prefix=dict(img='')). With --val-count: default the folder "
        'holding --lspet-dir')
    add('--out-dir', help='output folder (default: DATA_ROOT/annotations)')
    add('--lsp-dir', help='LSP folder (default: DATA_ROOT/lsp_dataset)')
    add('--lspet-dir',
        help='LSP-extended folder (default: DATA_ROOT/lspet_dataset)')
    add('--val-count', type=int,
        help='split LSP-extended alone (no LSP folder needed) into '
        'lspet_train.json and lspet_val.json with VAL_COUNT images')
    add('--split-seed', type=int, default=0,
        help='seed of the random --val-count split (default 0)')
    add('--no-lspet', action='store_true',
        help='train on the 1000 LSP training images only')
    add('--num-train', type=int, default=1000,
        help='the first NUM_TRAIN LSP images are the training split')
    add('--margin', type=float, default=0.1,
        help='bbox padding per side, as a fraction of the longer side of '
        'the tight box around the labelled joints')
    add_force_argument(parser)
    args = parser.parse_args(argv)
    if args.data_root is None and (args.val_count is None
                                   or args.lspet_dir is None):
        parser.error('give DATA_ROOT, or --lspet-dir with --val-count')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.val_count is not None:
        lspet_dir = args.lspet_dir or osp.join(args.data_root,
                                               'lspet_dataset')
        data_root = args.data_root or osp.dirname(osp.abspath(lspet_dir))
        split_lspet(lspet_dir,
                    args.out_dir or osp.join(data_root, 'annotations'),
                    args.val_count, split_seed=args.split_seed,
                    data_root=data_root, margin=args.margin,
                    force=args.force)
        return
    convert(args.data_root,
            args.out_dir or osp.join(args.data_root, 'annotations'),
            lsp_dir=args.lsp_dir, lspet_dir=args.lspet_dir,
            use_lspet=not args.no_lspet, num_train=args.num_train,
            margin=args.margin, force=args.force)


if __name__ == '__main__':
    main()
