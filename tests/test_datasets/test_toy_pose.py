import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmpose.datasets.transforms import RandomFlip
from mmpose.evaluation import MpiiPCKAccuracy
from mmpose.registry import DATASETS
from scipy.io import loadmat

from mmpose_attn.datasets.toy_pose import (L_ANK, L_ELB, L_HIP, L_KNE, L_SHO,
                                           L_WRI, R_ANK, R_ELB, R_HIP, R_KNE,
                                           R_SHO, R_WRI, ToyPoseDataset,
                                           ensure_toy_split, render_toy_pose,
                                           split_dirname)

MAIN = 'toy/td-hm_res18-c32_1xb32-2e_toy-mpii-128x128.py'
TINY = 'toy/td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py'
LEFT_LIMB_JOINTS = [L_ELB, L_WRI, L_KNE, L_ANK]
RIGHT_LIMB_JOINTS = [R_ELB, R_WRI, R_KNE, R_ANK]


def build(root, **kwargs):
    cfg = dict(type='ToyPoseDataset', data_root=str(root), num_samples=8,
               img_size=64)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def read_split(root, sub):
    with open(osp.join(root, sub, 'annotations.json')) as f:
        anns = json.load(f)
    imgs = [
        cv2.imread(osp.join(root, sub, 'images', a['image'])) for a in anns
    ]
    return anns, np.stack(imgs)


def warmth(img, xy):
    """Red minus blue at a 1-based keypoint (images are BGR)."""
    x, y = np.round(np.asarray(xy) - 1).astype(int)
    b, _, r = img[y, x].astype(int)
    return r - b


def test_same_seed_same_split_other_seed_other_split(tmp_path):
    subs = [
        ensure_toy_split(str(tmp_path / name), split, 6, seed, 64)
        for name, split, seed in (('a', 'train', 3), ('b', 'train', 3),
                                  ('c', 'train', 4), ('d', 'val', 3))
    ]
    assert subs[0] == subs[1] == split_dirname('train', 6, 3, 64)
    (ann_a, img_a), (ann_b, img_b), (ann_c, img_c), (ann_d, img_d) = [
        read_split(tmp_path / name, sub) for name, sub in zip('abcd', subs)
    ]
    assert ann_a == ann_b
    np.testing.assert_array_equal(img_a, img_b)
    box_a = loadmat(tmp_path / 'a' / subs[0] / 'headboxes.mat')
    box_b = loadmat(tmp_path / 'b' / subs[1] / 'headboxes.mat')
    np.testing.assert_array_equal(box_a['headboxes_src'],
                                  box_b['headboxes_src'])
    # another seed, or another split with the same seed, is other data
    for ann, img in ((ann_c, img_c), (ann_d, img_d)):
        assert ann != ann_a
        assert not np.array_equal(img, img_a)


def test_rendered_once_and_spec_checked(tmp_path):
    sub = ensure_toy_split(str(tmp_path), 'train', 4, 0, 64)
    img = osp.join(tmp_path, sub, 'images', '000000.png')
    mtime = os.stat(img).st_mtime_ns
    assert ensure_toy_split(str(tmp_path), 'train', 4, 0, 64) == sub
    assert os.stat(img).st_mtime_ns == mtime
    assert os.listdir(tmp_path) == [sub]  # no temporary folder left behind
    spec_file = osp.join(tmp_path, sub, 'spec.json')
    with open(spec_file, 'w') as f:
        json.dump(dict(seed=1), f)
    with pytest.raises(RuntimeError, match='spec.json.*does not match'):
        ensure_toy_split(str(tmp_path), 'train', 4, 0, 64)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='split must be one of'):
        build(tmp_path, split='training')
    with pytest.raises(ValueError, match='num_samples >= 1'):
        build(tmp_path, num_samples=0)


def test_keypoints_inside_image_and_visible(tmp_path):
    ds = build(tmp_path, num_samples=32)
    assert len(ds) == 32 and ds.metainfo['dataset_name'] == 'mpii'
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        kpts = info['keypoints']
        assert kpts.shape == (1, 16, 2)
        # 1-based (MATLAB) coordinates of pixels inside the 64x64 image
        assert (kpts >= 1).all() and (kpts <= 64).all()
        np.testing.assert_array_equal(info['keypoints_visible'],
                                      np.ones((1, 16)))
        # MpiiDataset's 0-based box (its centre moved down by 15 * scale)
        # holds the figure
        x1, y1, x2, y2 = info['bbox'][0]
        x, y = (kpts[0] - 1).T
        assert (x >= x1).all() and (x <= x2).all()
        assert (y >= y1).all() and (y <= y2).all()
        assert cv2.imread(info['img_path']).shape == (64, 64, 3)


def test_head_size_from_head_box(tmp_path):
    ds = build(tmp_path, split='val', test_mode=True, seed=5)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        _, joints, box = render_toy_pose(
            np.random.default_rng([5, 1, i]), 64)
        # MPII's PCKh normaliser: 0.6 x the head box diagonal
        np.testing.assert_allclose(
            info['head_size'], [[0.6 * np.linalg.norm(box[1] - box[0])]],
            rtol=1e-6)
        np.testing.assert_allclose(info['keypoints'][0], joints + 1,
                                   rtol=1e-6)
        for k in (8, 9):  # upper neck and head top lie on the head ellipse
            assert (joints[k] >= box[0] - 1e-6).all()
            assert (joints[k] <= box[1] + 1e-6).all()


def test_left_limbs_warm_right_limbs_cool_frontal():
    n, votes = 40, []
    for i in range(n):
        img, joints, _ = render_toy_pose(np.random.default_rng([0, 0, i]))
        # facing the camera: the figure's left is on the image's right
        assert joints[L_SHO, 0] > joints[R_SHO, 0]
        assert joints[L_HIP, 0] > joints[R_HIP, 0]
        votes += [warmth(img, joints[k] + 1) > 0 for k in LEFT_LIMB_JOINTS]
        votes += [warmth(img, joints[k] + 1) < 0 for k in RIGHT_LIMB_JOINTS]
    # a limb may cover another one's joint now and then
    assert np.mean(votes) > 0.9


def test_flip_pairs_swap_names_and_flip_swaps_colours(tmp_path, config_root):
    ds = build(
        tmp_path,
        img_size=128,
        num_samples=20,
        pipeline=[dict(type='LoadImage'),
                  dict(type='GetBBoxCenterScale')])
    names = ds.metainfo['keypoint_id2name']
    for k, f in enumerate(ds.metainfo['flip_indices']):
        if names[k].startswith('left_'):
            assert names[f] == 'right_' + names[k][5:]
        elif names[k].startswith('right_'):
            assert names[f] == 'left_' + names[k][6:]
        else:
            assert f == k
    flip = RandomFlip(prob=1.0, direction='horizontal')
    kept, swapped = [], []
    for i in range(len(ds)):
        results = ds[i]
        kpts = results['keypoints'][0]
        kept += [warmth(results['img'], kpts[k]) > 0 for k in LEFT_LIMB_JOINTS]
        flipped = flip(results)
        kpts = flipped['keypoints'][0]
        swapped += [
            warmth(flipped['img'], kpts[k]) < 0 for k in LEFT_LIMB_JOINTS
        ]
    # A flipped image puts the left labels on right-coloured limbs ...
    assert np.mean(kept) > 0.9 and np.mean(swapped) > 0.9
    # ... so the toy configs neither train nor test with flips.
    for name in (MAIN, TINY):
        cfg = Config.fromfile(osp.join(config_root, name))
        types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
        assert 'RandomFlip' not in types
        assert cfg.model.test_cfg.flip_test is False


def test_stock_pipelines_of_the_tiny_config(tmp_path, config_root):
    cfg = Config.fromfile(osp.join(config_root, TINY))
    train = cfg.train_dataloader.dataset
    train.data_root = str(tmp_path)
    ds = DATASETS.build(train)
    assert isinstance(ds, ToyPoseDataset)
    *transforms, pack = ds.pipeline.transforms
    np.random.seed(0)  # RandomBBoxTransform
    results = ds.get_data_info(0)
    for t in transforms:
        results = t(results)
    heatmaps = results['heatmaps']
    assert heatmaps.shape == (16, 16, 16)
    # each joint's target peaks at its transformed position (stride 4);
    # joints at the border have truncated Gaussians
    kpts = results['transformed_keypoints'][0]
    inside = (results['keypoint_weights'][0] > 0) & \
        ((kpts >= 0) & (kpts <= 60)).all(axis=1)
    assert inside.sum() >= 10
    peaks = np.stack(
        np.unravel_index(heatmaps.reshape(16, -1).argmax(1), (16, 16)),
        axis=1)[:, ::-1]
    np.testing.assert_allclose(
        peaks[inside], kpts[inside] / 4, atol=0.51 + 1e-6)
    sample = pack(results)
    assert tuple(sample['inputs'].shape) == (3, 64, 64)
    assert tuple(sample['data_samples'].gt_fields.heatmaps.shape) == \
        (16, 16, 16)

    val = cfg.val_dataloader.dataset
    val.data_root = str(tmp_path)
    sample = DATASETS.build(val)[0]
    assert tuple(sample['inputs'].shape) == (3, 64, 64)
    assert sample['data_samples'].gt_instances.head_size.item() > 0


def test_real_pckh_uses_the_head_size(tmp_path):
    ds = build(tmp_path, split='val', test_mode=True, num_samples=16)
    infos = [ds.get_data_info(i) for i in range(len(ds))]

    def pckh(offset_in_head_sizes):
        metric = MpiiPCKAccuracy()
        samples = []
        for info in infos:
            pred = info['keypoints'].copy()
            pred[..., 0] += offset_in_head_sizes * info['head_size'][0, 0]
            samples.append(
                dict(
                    # MPII's metric adds 1 to predictions (0-based) to
                    # compare with 1-based ground truth
                    pred_instances=dict(keypoints=pred - 1),
                    gt_instances=dict(
                        keypoints=info['keypoints'],
                        keypoints_visible=info['keypoints_visible'],
                        head_size=info['head_size'])))
        metric.process([], samples)
        return metric.evaluate(len(samples))

    exact = pckh(0.)
    assert exact['PCK'] == pytest.approx(100.)
    assert exact['PCK@0.1'] == pytest.approx(100.)
    assert pckh(0.45)['PCK'] == pytest.approx(100.)
    assert pckh(0.45)['PCK@0.1'] == pytest.approx(0.)
    assert pckh(0.55)['PCK'] == pytest.approx(0.)


def test_default_root_is_the_cache_not_the_current_folder(
        tmp_path, monkeypatch):
    monkeypatch.setenv('MMPOSE_ATTN_CACHE', str(tmp_path / 'cache'))
    monkeypatch.chdir(tmp_path)
    ds = DATASETS.build(dict(type='ToyPoseDataset', num_samples=2,
                             img_size=64))
    sub = split_dirname('train', 2, 0, 64)
    assert osp.isfile(tmp_path / 'cache' / 'toy_mpii' / sub / 'spec.json')
    assert ds.data_root == str(tmp_path / 'cache' / 'toy_mpii')
    assert os.listdir(tmp_path) == ['cache']


def test_toy_configs_render_into_the_cache(tmp_path, monkeypatch,
                                           config_root):
    monkeypatch.setenv('MMPOSE_ATTN_CACHE', str(tmp_path))
    cfg = Config.fromfile(osp.join(config_root, TINY))
    assert cfg.train_dataloader.dataset.data_root == \
        f'{tmp_path}/toy_mpii/'


def test_no_bbox_center_warning_and_the_same_crop(tmp_path, recwarn):
    """The instances carry only the box; GetBBoxCenterScale derives the
    centre and scale MpiiDataset would have given, without its warning."""
    ds = build(tmp_path, split='val', test_mode=True, num_samples=4,
               pipeline=[dict(type='GetBBoxCenterScale')])
    with open(osp.join(tmp_path, split_dirname('val', 4, 0, 64),
                       'annotations.json')) as f:
        anns = json.load(f)
    for i, ann in enumerate(anns):
        results = ds[i]
        assert 'Use the existing' not in ''.join(
            str(w.message) for w in recwarn)
        # MpiiDataset's own centre (shifted down 15 * scale, 0-based) and
        # scale (x200), padded 1.25x as GetBBoxCenterScale pads
        scale = np.float32(ann['scale']) * 200
        center = np.array(ann['center'], np.float32)
        center[1] += 15. / 200 * scale
        center -= 1
        np.testing.assert_allclose(results['bbox_center'][0], center,
                                   rtol=1e-5)
        np.testing.assert_allclose(results['bbox_scale'][0],
                                   [scale * 1.25] * 2, rtol=1e-5)
