"""FlicDataset on a tiny FLIC converted from a hand-made examples.mat,
through MMPose's registry and a real top-down pipeline."""
import filecmp
import os.path as osp

import cv2
import numpy as np
import pytest
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import DATASETS
from scipy.io import savemat

from mmpose_attn.datasets import FlicDataset
from mmpose_attn.tools.dataset_converters import flic2coco

FLIC_FLIP = [3, 4, 5, 0, 1, 2, 7, 6, 9, 8, 10]
W, H = 96, 64


@pytest.fixture
def flic_root(tmp_path):
    """Two FLIC frames, the first in istrain, the second in istest; slot s
    (1-based) of frame i at (2 s + 5 i, s + 20); unlabelled slots NaN, and
    frame 1's right eye (slot 14) NaN too."""
    (tmp_path / 'images').mkdir()
    fields = ('coords', 'filepath', 'imgdims', 'istrain', 'istest',
              'torsobox')
    examples = np.zeros((1, 2), dtype=[(f, 'O') for f in fields])
    for i in range(2):
        coords = np.full((2, 29), np.nan)
        for s in flic2coco.FLIC_SLOTS:
            coords[:, s - 1] = (2 * s + 5 * i, s + 20)
        if i == 0:
            coords[:, 13] = np.nan
        name = f'film-{i:08d}.jpg'
        examples[0, i] = (coords, name, np.array([H, W, 3.]), np.uint8(i == 0),
                          np.uint8(i == 1), np.array([10., 20., 40., 60.]))
        img = np.random.RandomState(i).randint(0, 255, (H, W, 3))
        cv2.imwrite(str(tmp_path / 'images' / name), img.astype(np.uint8))
    savemat(tmp_path / 'examples.mat', {'examples': examples})
    flic2coco.main([str(tmp_path)])
    return tmp_path, examples


def build(root, ann_file, pipeline=(), **kwargs):
    return DATASETS.build(
        dict(
            type='FlicDataset',
            data_root=str(root),
            ann_file=ann_file,
            data_prefix=dict(img=''),
            pipeline=list(pipeline),
            **kwargs))


def test_metainfo(config_root):
    path = FlicDataset.METAINFO['from_file']
    assert osp.isabs(path)
    assert filecmp.cmp(path, osp.join(config_root, '_base_', 'datasets',
                                      'flic.py'), shallow=False)
    meta = parse_pose_metainfo(FlicDataset.METAINFO)
    assert meta['dataset_name'] == 'flic' and meta['num_keypoints'] == 11
    assert [meta['keypoint_id2name'][i]
            for i in range(11)] == flic2coco.FLIC_KEYPOINTS
    assert meta['flip_indices'] == FLIC_FLIP
    assert [tuple(link) for link in meta['skeleton_links']
            ] == flic2coco.FLIC_SKELETON
    assert meta['lower_body_ids'] == [6, 7]
    assert meta['keypoint_name2id']['left_shoulder'] == 0
    assert meta['keypoint_name2id']['right_hip'] == 7


def test_train_and_test_through_topdown_pipeline(flic_root):
    root, examples = flic_root
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal', prob=1.0),
        dict(type='TopdownAffine', input_size=(48, 64)),
        dict(
            type='GenerateTarget',
            encoder=dict(
                type='MSRAHeatmap',
                input_size=(48, 64),
                heatmap_size=(12, 16),
                sigma=2)),
        dict(type='PackPoseInputs'),
    ]
    train = build(root, 'annotations/flic_train.json', pipeline)
    assert isinstance(train, FlicDataset) and len(train) == 1
    info = train.get_data_info(0)
    slots = np.array(flic2coco.FLIC_SLOTS)
    expected = np.stack([2 * slots - 1., slots + 19.], axis=1)
    expected[9] = 0  # right eye unlabelled
    np.testing.assert_allclose(info['keypoints'][0], expected)
    assert info['keypoints_visible'][0].tolist() == [1.] * 9 + [0., 1.]
    assert info['raw_ann_info']['torso_bbox'] == [9, 19, 30, 40]

    packed = train[0]
    assert packed['inputs'].shape == (3, 64, 48)
    gt = packed['data_samples'].gt_instances
    flipped = np.stack(
        [W - 1 - expected[FLIC_FLIP, 0], expected[FLIC_FLIP, 1]], axis=1)
    np.testing.assert_allclose(gt.keypoints[0], flipped, atol=1e-4)
    weights = packed['data_samples'].gt_instance_labels.keypoint_weights[0]
    # the unlabelled right eye (9) became the left eye (8)
    assert weights[8] == 0 and (np.delete(weights, 8) > 0).all()

    test = build(root, 'annotations/flic_test.json', test_mode=True)
    assert len(test) == 1 and test.get_data_info(0)['img_id'] == 2
    np.testing.assert_allclose(
        test.get_data_info(0)['keypoints'][0, :, 0], 2 * slots + 5 - 1)
