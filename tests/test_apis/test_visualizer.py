"""Drawing predictions works with the stack's numpy: keypoints that are
certainly drawn (score 1) change the pixels where they are, on a real image.

MMPose 1.3.2's ``draw_circles`` calls ``int()`` on a 1-element array, an
error since numpy 2.4; requirements/constraints.txt keeps numpy below it.
"""
import json
import os.path as osp

import cv2
import numpy as np
from mmengine.structures import InstanceData

from mmpose.apis import MMPoseInferencer, init_model
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

TINY = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'toy', 'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')


def changed(before, after, x, y, r=2):
    """Largest channel change in the (2r+1)^2 patch around (x, y)."""
    x, y = int(round(x)), int(round(y))
    patch = np.s_[max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1]
    return np.abs(after[patch].astype(int) - before[patch].astype(int)).max()


def coco_person(samples_root):
    """The most complete annotated person of a real COCO sample."""
    with open(osp.join(samples_root, 'coco', 'test_coco.json')) as f:
        coco = json.load(f)
    ann = max(coco['annotations'], key=lambda a: a['num_keypoints'])
    image = next(i for i in coco['images'] if i['id'] == ann['image_id'])
    kpts = np.array(ann['keypoints'], np.float32).reshape(-1, 3)
    return osp.join(samples_root, 'coco', image['file_name']), kpts


def test_keypoints_and_skeleton_are_drawn(samples_root):
    img_path, kpts = coco_person(samples_root)
    visible = kpts[:, 2] > 0
    assert visible.sum() >= 10
    image = cv2.imread(img_path)[..., ::-1].copy()  # RGB, as MMPose draws

    sample = PoseDataSample()
    sample.pred_instances = InstanceData(
        keypoints=kpts[None, :, :2],
        keypoint_scores=visible[None].astype(np.float32))  # 1 or 0
    meta = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/coco.py'))
    vis = PoseLocalVisualizer(radius=3, line_width=2)
    vis.set_dataset_meta(meta)
    drawn = vis.add_datasample(
        'pred', image, sample, draw_gt=False, draw_bbox=False, kpt_thr=0.5,
        show=False)

    assert drawn.shape == image.shape
    for (x, y, _), v in zip(kpts, visible):
        if v:
            assert changed(image, drawn, x, y) > 40, (x, y)
    links = [(a, b) for a, b in meta['skeleton_links']
             if visible[a] and visible[b]]
    assert len(links) >= 8
    for a, b in links:
        mid = (kpts[a, :2] + kpts[b, :2]) / 2
        assert changed(image, drawn, *mid, r=1) > 40, (a, b)
    # far from the person nothing is drawn
    x0, y0 = kpts[visible, :2].min(0) - 20
    x1, y1 = kpts[visible, :2].max(0) + 20
    outside = np.ones(image.shape[:2], bool)
    outside[max(int(y0), 0):int(y1), max(int(x0), 0):int(x1)] = False
    np.testing.assert_array_equal(drawn[outside], image[outside])


def test_inferencer_draws_every_scored_keypoint(samples_root, tmp_path):
    """``MMPoseInferencer(vis_out_dir=...)`` with a threshold every
    prediction passes draws the random model's keypoints."""
    image = osp.join(samples_root, 'mpii', '004645041.jpg')
    ckpt = str(tmp_path / 'init.pth')
    from mmengine.runner import save_checkpoint
    save_checkpoint(
        dict(state_dict=init_model(TINY, device='cpu').state_dict()), ckpt)
    inferencer = MMPoseInferencer(
        pose2d=TINY, pose2d_weights=ckpt, det_model='whole_image',
        device='cpu')
    result = next(
        inferencer(
            image, vis_out_dir=str(tmp_path / 'vis'), kpt_thr=-1.0,
            radius=3))
    (person, ) = result['predictions'][0]
    before = cv2.imread(image)
    after = cv2.imread(str(tmp_path / 'vis' / '004645041.jpg'))
    h, w = before.shape[:2]
    inside = [(x, y) for x, y in person['keypoints']
              if 3 <= x < w - 3 and 3 <= y < h - 3]
    assert inside
    for x, y in inside:
        assert changed(before, after, x, y) > 40, (x, y)
