"""Clear errors for bad data, for every MMPose dataset, installed at import.

Stock MMPose asserts ``Annotation file does not exist`` at best, reshapes a
wrong-length keypoint list into a wrong joint count that breaks much later
in a pipeline, trains on an empty dataset without a word, and reports an
undecodable image as ``'NoneType' object has no attribute 'shape'``. The
checks below wrap ``BaseCocoStyleDataset`` (COCO, MPII, CrowdPose, LSP, FLIC
and the toy dataset all derive from it) and ``LoadImage`` so each of these
fails early with a message that names the file and the problem. They only
read what MMPose already computed; valid data goes through unchanged.
"""
import functools
import os.path as osp

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
        return data_list

    return wrapper


def _checked_load_image(transform):

    @functools.wraps(transform)
    def wrapper(self, results):
        path = results.get('img_path')
        if 'img' not in results and _is_local(path) and \
                not osp.isfile(path):
            raise FileNotFoundError(f'{path}: image file not found')
        try:
            return transform(self, results)
        except Exception as e:
            raise OSError(
                f'{path}: cannot read image (empty, truncated or not an '
                f'image file): {e}') from e

    return wrapper


def install() -> None:
    """Wrap MMPose's dataset loading and ``LoadImage`` once."""
    if getattr(BaseCocoStyleDataset, '_mmpose_attn_checked', False):
        return
    BaseCocoStyleDataset.load_data_list = _checked_load_data_list(
        BaseCocoStyleDataset.load_data_list)
    BaseCocoStyleDataset.filter_data = _checked_filter_data(
        BaseCocoStyleDataset.filter_data)
    LoadImage.transform = _checked_load_image(LoadImage.transform)
    BaseCocoStyleDataset._mmpose_attn_checked = True


install()
