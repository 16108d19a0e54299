"""Our configs drop into MMPose's own inferencer and visualizer."""
import os.path as osp

import cv2
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
