"""LspDataset on a tiny LSP + LSP-extended converted from hand-made .mat
files, through MMPose's registry and a real top-down pipeline."""
import filecmp
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import DATASETS
from scipy.io import savemat

from mmpose_attn.datasets import LspDataset
from mmpose_attn.datasets.lsp import MPII_TO_LSP, dataset_info_file
from mmpose_attn.evaluation import TorsoPCKAccuracy
from mmpose_attn.tools.dataset_converters import lsp2coco

LSP_FLIP = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13]
W, H = 80, 100


@pytest.fixture
def lsp_root(tmp_path):
    """3 LSP images (joint k of image i at 1-based (20 + 3k + i, 10 + 5k);
    image 1's left wrist occluded) and 1 LSP-extended image with its left
    ankle invisible, converted with 2 LSP training images."""
    k = np.arange(14)
    joints = np.zeros((3, 14, 3))
    for i in range(3):
        joints[0, :, i], joints[1, :, i] = 20 + 3 * k + i, 10 + 5 * k
    joints[2, 11, 0] = 1
    ext = np.stack([30 + 2 * k, 15 + 4 * k, np.ones(14)], axis=1)[..., None]
    ext[5, 2, 0] = 0
    for name, mat, n, fmt in (('lsp_dataset', joints, 3, 'im{:04d}.jpg'),
                              ('lspet_dataset', ext, 1, 'im{:05d}.jpg')):
        (tmp_path / name / 'images').mkdir(parents=True)
        savemat(tmp_path / name / 'joints.mat', {'joints': mat})
        for i in range(n):
            img = np.random.RandomState(i).randint(0, 255, (H, W, 3))
            cv2.imwrite(
                str(tmp_path / name / 'images' / fmt.format(i + 1)),
                img.astype(np.uint8))
    lsp2coco.main([str(tmp_path), '--num-train', '2'])
    return tmp_path, joints, ext


def build(root, ann_file, pipeline=(), **kwargs):
    return DATASETS.build(
        dict(
            type='LspDataset',
            data_root=str(root),
            ann_file=ann_file,
            data_prefix=dict(img=''),
            pipeline=list(pipeline),
            **kwargs))


def test_metainfo(config_root, tmp_path, monkeypatch):
    path = LspDataset.METAINFO['from_file']
    assert osp.isabs(path) and path == dataset_info_file('lsp.py')
    assert filecmp.cmp(path, osp.join(config_root, '_base_', 'datasets',
                                      'lsp.py'), shallow=False)
    monkeypatch.chdir(tmp_path)  # resolution must not depend on the cwd
    meta = parse_pose_metainfo(LspDataset.METAINFO)
    assert meta['dataset_name'] == 'lsp' and meta['num_keypoints'] == 14
    assert [meta['keypoint_id2name'][i]
            for i in range(14)] == lsp2coco.LSP_KEYPOINTS
    assert meta['flip_indices'] == LSP_FLIP
    pairs = [(3, 2), (4, 1), (5, 0), (9, 8), (10, 7), (11, 6)]
    assert sorted(meta['flip_pairs']) == sorted(pairs +
                                                [p[::-1] for p in pairs])
    assert [tuple(link) for link in meta['skeleton_links']
            ] == lsp2coco.LSP_SKELETON
    assert meta['upper_body_ids'] == list(range(6, 14))
    assert meta['sigmas'].shape == meta['dataset_keypoint_weights'].shape == (
        14, )


def test_train_set_through_topdown_pipeline(lsp_root):
    root, joints, ext = lsp_root
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal', prob=1.0),
        dict(type='TopdownAffine', input_size=(64, 64)),
        dict(
            type='GenerateTarget',
            encoder=dict(
                type='MSRAHeatmap',
                input_size=(64, 64),
                heatmap_size=(16, 16),
                sigma=2)),
        dict(type='PackPoseInputs'),
    ]
    dataset = build(root, 'annotations/lsp_train.json', pipeline)
    assert isinstance(dataset, LspDataset) and len(dataset) == 3

    info = dataset.get_data_info(0)
    assert info['img_path'] == osp.join(str(root), 'lsp_dataset', 'images',
                                        'im0001.jpg')
    np.testing.assert_allclose(info['keypoints'][0], joints[:2, :, 0].T - 1)
    # the occluded left wrist is labelled (v=1): trained on like the others
    assert info['keypoints_visible'][0].tolist() == [1.] * 14
    assert info['raw_ann_info']['keypoints'][11 * 3 + 2] == 1
    ext_info = dataset.get_data_info(2)
    assert ext_info['img_id'] == 10001
    assert ext_info['keypoints_visible'][0, 5] == 0

    packed = dataset[2]
    assert packed['inputs'].shape == (3, 64, 64)
    gt = packed['data_samples'].gt_instances
    kpts = ext[:, :2, 0] - 1
    kpts[5] = 0
    flipped = np.stack([W - 1 - kpts[LSP_FLIP, 0], kpts[LSP_FLIP, 1]], 1)
    np.testing.assert_allclose(gt.keypoints[0], flipped, atol=1e-4)
    # the invisible left ankle became the right ankle (index 0): no target
    weights = packed['data_samples'].gt_instance_labels.keypoint_weights[0]
    assert weights[0] == 0 and (weights[1:] > 0).all()
    assert packed['data_samples'].gt_fields.heatmaps.shape == (14, 16, 16)


def test_test_set_with_torso_pck(lsp_root):
    root, joints, _ = lsp_root
    dataset = build(root, 'annotations/lsp_test.json', test_mode=True)
    assert len(dataset) == 1
    info = dataset.get_data_info(0)
    assert info['img_id'] == 3
    gt = info['keypoints']
    metric = TorsoPCKAccuracy()
    metric.dataset_meta = dataset.metainfo
    # torso = ||left_shoulder - right_hip|| of image 3: (21, 40) in pixels
    torso = np.hypot(3 * 7, 5 * 7)
    pred = gt.copy()
    pred[0, :7, 0] += 0.19 * torso  # joints 0-6 inside 0.2 torso
    pred[0, 7:, 0] += 0.21 * torso  # joints 7-13 outside
    metric.process([], [
        dict(
            gt_instances=dict(
                keypoints=gt, keypoints_visible=info['keypoints_visible']),
            pred_instances=dict(keypoints=pred))
    ])
    metrics = metric.evaluate(1)
    assert metrics['PCK'] == pytest.approx(100 * 7 / 14)
    assert metrics['Ankle PCK'] == 100 and metrics['Head PCK'] == 0


def test_wrong_joint_count(tmp_path):
    """A FLIC-sized (11-joint) annotation fed to LspDataset is refused with
    the file named, not reshaped into a wrong pose."""
    cv2.imwrite(str(tmp_path / 'a.jpg'), np.zeros((8, 8, 3), np.uint8))
    ann = dict(
        images=[dict(id=1, file_name='a.jpg', width=8, height=8)],
        annotations=[
            dict(
                id=1,
                image_id=1,
                category_id=1,
                keypoints=[1, 1, 2] * 11,
                num_keypoints=11,
                bbox=[0, 0, 8, 8],
                area=64,
                iscrowd=0)
        ],
        categories=[dict(id=1, name='person')])
    (tmp_path / 'flic.json').write_text(json.dumps(ann))
    with pytest.raises(ValueError, match=r'flic.json.*11 keypoints'):
        build(tmp_path, 'flic.json')


def test_mpii_to_lsp_mapping(samples_root):
    """MPII_TO_LSP maps real MPII samples onto LSP's joints by name."""
    mpii = DATASETS.build(
        dict(
            type='MpiiDataset',
            data_root=osp.join(samples_root, 'mpii'),
            ann_file='test_mpii.json',
            data_prefix=dict(img=''),
            pipeline=[
                dict(
                    type='KeypointConverter',
                    num_keypoints=14,
                    mapping=MPII_TO_LSP)
            ]))
    lsp_names = parse_pose_metainfo(LspDataset.METAINFO)['keypoint_id2name']
    mpii_names = mpii.metainfo['keypoint_id2name']
    assert sorted(t for _, t in MPII_TO_LSP) == list(range(14))
    for s, t in MPII_TO_LSP:
        assert mpii_names[s] == {'neck': 'upper_neck'}.get(
            lsp_names[t], lsp_names[t])
    raw = mpii.get_data_info(0)
    out = mpii[0]
    for s, t in MPII_TO_LSP:
        np.testing.assert_allclose(out['keypoints'][0, t],
                                   raw['keypoints'][0, s])


def test_dataset_info_file_prefers_installed_copy(tmp_path, monkeypatch,
                                                  config_root):
    """A regular install has ``mmpose_attn/.mim/configs`` and no checkout
    beside it: the metainfo must come from there."""
    from mmpose_attn.datasets import lsp as lsp_module
    pkg = tmp_path / 'site-packages' / 'mmpose_attn'
    installed = pkg / '.mim' / 'configs' / '_base_' / 'datasets' / 'lsp.py'
    monkeypatch.setattr(lsp_module, '_PKG_ROOT', str(pkg))
    missing = lsp_module.dataset_info_file('lsp.py')
    assert missing == str(installed)
    with pytest.raises(FileNotFoundError, match='lsp.py" does not exist'):
        parse_pose_metainfo(dict(from_file=missing))
    installed.parent.mkdir(parents=True)
    installed.write_text(
        open(osp.join(config_root, '_base_', 'datasets', 'lsp.py')).read())
    found = lsp_module.dataset_info_file('lsp.py')
    assert found == str(installed)
    assert parse_pose_metainfo(dict(from_file=found))['num_keypoints'] == 14
