"""Our configs drop into MMPose's own inferencer and visualizer."""
import os
import os.path as osp

import cv2
import pytest
from mmengine.runner import save_checkpoint

from mmpose.apis import MMPoseInferencer, init_model

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'toy', 'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')


def test_mmpose_inferencer_with_our_config(tmp_path, samples_root):
    ckpt = str(tmp_path / 'toy.pth')
    save_checkpoint(
        dict(state_dict=init_model(CONFIG, device='cpu').state_dict()), ckpt)
    image = osp.join(samples_root, 'mpii', '004645041.jpg')

    inferencer = MMPoseInferencer(
        pose2d=CONFIG, pose2d_weights=ckpt, det_model='whole_image',
        device='cpu')
    vis_dir = tmp_path / 'vis'
    result = next(
        inferencer(image, vis_out_dir=str(vis_dir), return_vis=False))

    (person, ) = result['predictions'][0]
    assert len(person['keypoints']) == 16  # MPII joints of the toy dataset
    height, width = cv2.imread(image).shape[:2]
    # 'whole_image' box, padded 1.25x to the square 64x64 input: every scored
    # prediction lies in that crop (it may reach past the image border);
    # MMPose decodes a heatmap with no positive response to -1, score 0.
    half = 1.25 * max(width, height) / 2
    scored = [
        kpt for kpt, score in zip(person['keypoints'],
                                  person['keypoint_scores']) if score > 0
    ]
    assert scored
    for x, y in scored:
        assert abs(x - width / 2) <= half and abs(y - height / 2) <= half
    drawn = cv2.imread(str(vis_dir / '004645041.jpg'))
    assert drawn is not None and drawn.shape[:2] == (height, width)


TINY_CONFIGS = [
    'spcnet/spcnet_dilated-hourglass2-tiny_1xb2-2e_toy-64x64.py',
    'sadinet/sadinet_rfm-hourglass-tiny_1xb8-1e_toy-mpii-64x64.py',
    'sghrnet/sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py',
    'samkr/samkr_hrnet-tiny_1xb2-2e_coco-128x128.py',
]


@pytest.mark.parametrize('config', TINY_CONFIGS)
def test_offline_inference_from_another_folder(config, samples_root,
                                               tmp_path, monkeypatch):
    """Each paper's tiny config infers offline (no detector download) from
    a folder with nothing in it, and writes only what it is asked to."""
    config = osp.join(osp.dirname(CONFIG), '..', config)
    monkeypatch.chdir(tmp_path)
    model = init_model(config, device='cpu')
    save_checkpoint(dict(state_dict=model.state_dict()), 'tiny.pth')
    image = osp.join(samples_root, 'coco', '000000000785.jpg')
    inferencer = MMPoseInferencer(
        pose2d=config, pose2d_weights='tiny.pth', det_model='whole_image',
        device='cpu')
    result = next(inferencer(image, vis_out_dir='vis'))
    people = result['predictions'][0]
    # the random bottom-up model (SAMKR) may find nobody; top-down ones
    # predict the whole-image person
    assert people or type(model).__name__ == 'BottomupPoseEstimator'
    assert all(
        len(p['keypoints']) == model.dataset_meta['num_keypoints']
        for p in people)
    assert sorted(os.listdir(tmp_path)) == ['tiny.pth', 'vis']
    assert os.listdir(tmp_path / 'vis') == ['000000000785.jpg']
