"""FLIC (Frames Labeled In Cinema) for MMPose 1.x."""
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from .data_checks import CheckedAnnotationsMixin
from .lsp import dataset_info_file


@DATASETS.register_module()
class FlicDataset(CheckedAnnotationsMixin, BaseCocoStyleDataset):
    """FLIC, "MODEC: Multimodal Decomposable Models for Human Pose
    Estimation", CVPR'2013: 5003 movie frames with one annotated upper body,
    3987 for training (``istrain``) and 1016 for testing (``istest``), as in
    SPCNet Sec. 4.1, evaluated with PCK@0.2 on elbows and wrists
    (:class:`TorsoPCKAccuracy`). Write the annotation files with
    ``python -m mmpose_attn.tools.dataset_converters.flic2coco``.

    FLIC keypoints (the 11 labelled slots of ``examples.mat``'s 29 ``coords``
    columns, in slot order; left/right as labelled in FLIC)::

        0: 'left_shoulder',  1: 'left_elbow',  2: 'left_wrist',
        3: 'right_shoulder', 4: 'right_elbow', 5: 'right_wrist',
        6: 'left_hip',       7: 'right_hip',   8: 'left_eye',
        9: 'right_eye',     10: 'nose'

    Annotation file: the COCO keypoint json described in
    :class:`LspDataset`, with 11 joints: ``keypoints`` holds
    ``[x, y, v] * 11``; ``file_name`` is relative to ``data_prefix['img']``
    (the converter writes ``images/<examples.filepath>``, relative to the
    FLIC folder); x, y are 0-based (``coords`` minus 1); v = 2 for a labelled
    joint, 0 (with x = y = 0) for a NaN coordinate (FLIC marks no occlusion).
    The converter also stores FLIC's ``torsobox`` as ``torso_bbox``
    ([x, y, w, h]) in each annotation.

    Args: see :class:`mmpose.datasets.BaseCocoStyleDataset`. ``metainfo``
        defaults to mmpose_attn's ``configs/_base_/datasets/flic.py``. The
        annotation file is checked when the dataset is built
        (:class:`~mmpose_attn.datasets.data_checks.CheckedAnnotationsMixin`).
    """

    METAINFO: dict = dict(from_file=dataset_info_file('flic.py'))
