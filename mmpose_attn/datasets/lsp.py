"""Leeds Sports Pose (LSP + LSP-extended) for MMPose 1.x."""
import os.path as osp

from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from .data_checks import CheckedAnnotationsMixin

_PKG_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# (MPII index, LSP index) pairs for MMPose's KeypointConverter, to add MPII's
# training set to LSP's as SPCNet (Sec. 4.3) and SADI-Net (Sec. IV-D) do:
# `dict(type='KeypointConverter', num_keypoints=14, mapping=MPII_TO_LSP)`.
# MPII's upper_neck stands in for LSP's neck; pelvis and thorax are dropped.
MPII_TO_LSP = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (10, 6),
               (11, 7), (12, 8), (13, 9), (14, 10), (15, 11), (8, 12), (9, 13)]


def dataset_info_file(filename: str) -> str:
    """Absolute path of ``configs/_base_/datasets/<filename>`` shipped with
    mmpose_attn.

    MMPose resolves a relative ``from_file`` against the working directory and
    then against *mmpose's* own ``.mim/configs``, which has no LSP/FLIC, so our
    datasets point at our package instead: ``mmpose_attn/.mim/configs`` (a
    regular install copies ``configs/`` there; an editable install links it),
    else the checkout's ``configs/`` (source tree without install).
    """
    candidates = [
        osp.join(_PKG_ROOT, '.mim', 'configs', '_base_', 'datasets', filename),
        osp.join(
            osp.dirname(_PKG_ROOT), 'configs', '_base_', 'datasets', filename)
    ]
    for path in candidates:
        if osp.isfile(path):
            return path
    # Missing everywhere: parse_pose_metainfo raises FileNotFoundError on it.
    return candidates[0]


@DATASETS.register_module()
class LspDataset(CheckedAnnotationsMixin, BaseCocoStyleDataset):
    """Leeds Sports Pose, "Clustered Pose and Nonlinear Appearance Models for
    Human Pose Estimation", BMVC'2010, and LSP-extended, "Learning Effective
    Human Pose Estimation from Inaccurate Annotation", CVPR'2011.

    The papers (SPCNet Sec. 4.1, SADI-Net Sec. IV-A) train on LSP's first 1000
    images plus the 10000 LSP-extended images (11K) and test on LSP's last
    1000 images with PCK@0.2 (:class:`TorsoPCKAccuracy`). Write the
    annotation files with
    ``python -m mmpose_attn.tools.dataset_converters.lsp2coco``.

    LSP keypoints (person-centric left/right)::

        0: 'right_ankle',    1: 'right_knee',     2: 'right_hip',
        3: 'left_hip',       4: 'left_knee',      5: 'left_ankle',
        6: 'right_wrist',    7: 'right_elbow',    8: 'right_shoulder',
        9: 'left_shoulder', 10: 'left_elbow',    11: 'left_wrist',
        12: 'neck',         13: 'head_top'

    Annotation file (COCO keypoint json, one person per image)::

        {
          "images": [{"id": int, "file_name": str, "width": int,
                      "height": int}, ...],
          "annotations": [{
              "id": int, "image_id": int, "category_id": 1,
              "keypoints": [x0, y0, v0, ..., x13, y13, v13],
              "num_keypoints": int,   # joints with v > 0
              "bbox": [x, y, w, h],   # labelled joints + margin, in image
              "area": float, "iscrowd": 0}, ...],
          "categories": [{"id": 1, "name": "person",
                          "keypoints": [14 names], "skeleton": [...]}]
        }

    ``file_name`` is relative to ``data_prefix['img']`` (the converter writes
    ``lsp_dataset/images/im0001.jpg`` and ``lspet_dataset/images/
    im00001.jpg``, i.e. relative to the folder holding both datasets). x, y
    are 0-based pixel coordinates (the ``.mat`` 1-based ones minus 1).
    v follows COCO: 2 = labelled and visible, 1 = labelled but occluded
    (original LSP marks occluded joints, whose positions are still annotated
    and scored by the LSP benchmark), 0 = not labelled (LSP-extended's
    invisible joints, which carry no reliable position; x = y = 0). MMPose
    turns v into ``keypoints_visible = min(v, 1)``, so occluded joints are
    trained on and evaluated, unlabelled ones are not.

    Args: see :class:`mmpose.datasets.BaseCocoStyleDataset`. ``metainfo``
        defaults to mmpose_attn's ``configs/_base_/datasets/lsp.py``. The
        annotation file is checked when the dataset is built
        (:class:`~mmpose_attn.datasets.data_checks.CheckedAnnotationsMixin`).
    """

    METAINFO: dict = dict(from_file=dataset_info_file('lsp.py'))
