"""Clear errors for bad data, for every MMPose dataset: the ``data_checks``
host change (``mmpose_attn.utils.host_changes``), applied by
``import mmpose_attn`` unless ``MMPOSE_ATTN_DATA_CHECKS=0``.

Stock MMPose asserts ``Annotation file does not exist`` at best, reshapes a
wrong-length keypoint list into a wrong joint count that breaks much later
in a pipeline, trains on an empty dataset without a word, raises
``annotation file format <class 'list'> not supported`` without naming the
file, and reports any image-loading failure with "Please check whether the
file exists". The checks below wrap ``BaseCocoStyleDataset`` (COCO, MPII,
CrowdPose, LSP, FLIC and the toy dataset all derive from it) and
``LoadImage`` so each of these fails early with a message that names the
file and says what is wrong. They only read what MMPose already computed;
valid data goes through unchanged.

Opt-in, per dataset: ``filter_cfg=dict(check_images=True)`` reads every
listed image once when the dataset is built (a progress bar on the main
process) and lists the unreadable ones, instead of failing mid-epoch. Stock
MMPose ignores the key, so a config that sets it still runs without the
checks.
"""
import functools
import os.path as osp
import sys
from typing import Optional

import cv2
import numpy as np
from mmengine.dist import is_main_process
from mmengine.utils import ProgressBar
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.datasets.transforms import LoadImage


def _is_local(path) -> bool:
    return isinstance(path, str) and '://' not in path


def _check_exists(path, what: str, dataset) -> None:
    if path and _is_local(path) and not osp.exists(path):
        raise FileNotFoundError(
            f'{path}: {what} does not exist ({type(dataset).__name__}, '
            f'data_root={dataset.data_root!r})')


def check_data_paths(dataset: BaseCocoStyleDataset) -> None:
    """Data root, annotation, detection and head-box files and the image
    folder must exist before anything is parsed."""
    if dataset.data_root and _is_local(dataset.data_root) \
            and not osp.isdir(dataset.data_root):
        raise FileNotFoundError(
            f'{dataset.data_root}: data_root does not exist '
            f'({type(dataset).__name__}, ann_file={dataset.ann_file!r})')
    _check_exists(dataset.ann_file, 'annotation file', dataset)
    _check_exists(getattr(dataset, 'bbox_file', None), 'bbox_file', dataset)
    _check_exists(
        getattr(dataset, 'headbox_file', None), 'headbox_file', dataset)
    _check_exists(dataset.data_prefix.get('img'), 'image folder', dataset)


def check_keypoint_count(dataset: BaseCocoStyleDataset,
                         data_list: list) -> None:
    """Every instance must carry the joint count of the dataset's metainfo."""
    expected = dataset.metainfo['num_keypoints']
    for info in data_list:
        found = info['keypoints'].shape[-2]
        if found != expected:
            ann = info.get('id', info.get('img_id'))
            raise ValueError(
                f'{dataset.ann_file}: annotation {ann} ({info["img_path"]}) '
                f'has {found} keypoints but {type(dataset).__name__} metainfo '
                f'({dataset.metainfo.get("dataset_name")}) defines '
                f'{expected}: is the annotation file for another dataset?')


def describe_unreadable_image(path: str) -> Optional[str]:
    """What stops ``path`` from loading as an image, or None if it decodes.

    Mirrors what ``LoadImage`` accepts (OpenCV decoding; a truncated JPEG
    decodes partially there too), decoding at 1/8 scale for speed.
    """
    if not osp.exists(path):
        return 'file not found'
    if not osp.isfile(path):
        return 'not a file'
    size = osp.getsize(path)
    if size == 0:
        return 'empty file (0 bytes)'
    data = np.fromfile(path, np.uint8)
    if cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
        return (f'not an image OpenCV can decode ({size} bytes, starting '
                f'{data[:8].tobytes()!r})')
    return None


def check_images(dataset: BaseCocoStyleDataset) -> None:
    """Read every image the dataset lists (once per file).

    Raises:
        FileNotFoundError: Every unreadable image is missing.
        OSError: Some listed images are empty or not decodable.
    """
    paths = sorted({
        info['img_path']
        for info in dataset.data_list if _is_local(info.get('img_path'))
    })
    bar = ProgressBar(len(paths), file=sys.stdout) \
        if is_main_process() and paths else None
    bad = []
    for path in paths:
        problem = describe_unreadable_image(path)
        if problem:
            bad.append(f'{path}: {problem}')
        if bar:
            bar.update()
    if bar:
        sys.stdout.write('\n')
    if bad:
        error = FileNotFoundError if all(
            b.endswith('file not found') for b in bad) else OSError
        shown = '; '.join(bad[:10]) + (' ...' if len(bad) > 10 else '')
        raise error(f'{dataset.ann_file}: {len(bad)} of {len(paths)} listed '
                    f'images cannot be read ({type(dataset).__name__}, '
                    f'check_images=True): {shown}')


def _checked_load_data_list(load_data_list):

    @functools.wraps(load_data_list)
    def wrapper(self):
        check_data_paths(self)
        try:
            data_list = load_data_list(self)
        except ValueError as e:
            # e.g. a keypoint list whose length is not a multiple of 3
            raise ValueError(
                f'{self.ann_file}: cannot parse keypoint annotations '
                f'({e})') from e
        except AssertionError as e:
            # xtcocotools' COCO() on anything but a COCO-style dict, e.g.
            # MPII's list-style json in a COCO-style config
            if 'annotation file format' not in str(e):
                raise
            raise ValueError(
                f'{self.ann_file}: {type(self).__name__} expects a COCO-style '
                'annotation file (a dict with "images", "annotations" and '
                f'"categories"), found {e}; MMPose\'s MPII json (a list of '
                'dicts with "joints", "center", "scale") is read by '
                'MpiiDataset') from e
        check_keypoint_count(self, data_list)
        return data_list

    return wrapper


def _checked_filter_data(filter_data):

    @functools.wraps(filter_data)
    def wrapper(self):
        data_list = filter_data(self)
        if not data_list:
            source = getattr(self, 'bbox_file', None) or self.ann_file
            raise ValueError(
                f'{source}: {type(self).__name__} has no valid instances '
                f'(data_mode={self.data_mode!r}, test_mode={self.test_mode})'
                ': refusing to train or evaluate on an empty dataset')
        if (self.filter_cfg or {}).get('check_images'):
            self.data_list = data_list
            check_images(self)
        return data_list

    return wrapper


def _checked_load_image(transform):

    @functools.wraps(transform)
    def wrapper(self, results):
        try:
            return transform(self, results)
        except Exception as e:
            path = results.get('img_path')
            if 'img' in results or not _is_local(path):
                raise
            # MMPose re-raises mmcv's error as type(e)(... 'check whether the
            # file exists') inside its except block: report the original
            cause = e.__context__ or e
            problem = describe_unreadable_image(path)
            if problem == 'file not found':
                raise FileNotFoundError(
                    f'{path}: image file not found') from cause
            if problem:
                raise OSError(
                    f'{path}: cannot read image: {problem}') from cause
            raise OSError(f'{path}: loading the image failed: '
                          f'{type(cause).__name__}: {cause}') from cause

    return wrapper


_ORIGINALS = {}


def install() -> None:
    """Wrap MMPose's dataset loading and ``LoadImage`` (idempotent)."""
    if _ORIGINALS:
        return
    _ORIGINALS.update(
        load_data_list=BaseCocoStyleDataset.load_data_list,
        filter_data=BaseCocoStyleDataset.filter_data,
        transform=LoadImage.transform)
    BaseCocoStyleDataset.load_data_list = _checked_load_data_list(
        _ORIGINALS['load_data_list'])
    BaseCocoStyleDataset.filter_data = _checked_filter_data(
        _ORIGINALS['filter_data'])
    LoadImage.transform = _checked_load_image(_ORIGINALS['transform'])


def uninstall() -> None:
    """Put MMPose's own methods back (idempotent)."""
    if not _ORIGINALS:
        return
    BaseCocoStyleDataset.load_data_list = _ORIGINALS.pop('load_data_list')
    BaseCocoStyleDataset.filter_data = _ORIGINALS.pop('filter_data')
    LoadImage.transform = _ORIGINALS.pop('transform')
