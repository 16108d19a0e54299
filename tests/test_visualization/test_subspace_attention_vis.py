import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpose_attn.visualization.subspace_attention import (
    PANEL_HEIGHT, TITLE_HEIGHT, _to_image_space, collect_subspace_attention)

TINY = 'samkr_hrnet-tiny_1xb2-2e_coco-128x128.py'


@pytest.fixture(scope='module')
def tiny_model(config_root):
    from mmpose.apis import init_model
    cfg = Config.fromfile(osp.join(config_root, 'samkr', TINY))
    torch.manual_seed(0)
    return init_model(cfg, None, device='cpu')


def test_maps_go_back_to_image_space():
    heat = np.zeros((32, 32), np.float32)
    heat[8, 16] = 1.0  # (v, u)
    # BottomupResize 'expand' of a 200x100 image into a 128x128 input:
    # centre (100, 50), scale 200x200; u=16 -> x=100, v=8 -> y=0
    warped = _to_image_space(heat, (100, 200), (128, 128), (100., 50.),
                             (200., 200.))
    assert warped.shape == (100, 200)
    y, x = np.unravel_index(warped.argmax(), warped.shape)
    assert abs(x - 100) <= 4 and y <= 4


def test_cli_saves_png_for_chosen_keypoints(tiny_model, config_root,
                                            samples_root, tmp_path):
    from mmpose_attn.tools.visualize_subspace_attention import main
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': tiny_model.state_dict()}, ckpt)
    img = osp.join(samples_root, 'coco', '000000196141.jpg')
    out = str(tmp_path / 'attn.png')
    main([
        osp.join(config_root, 'samkr', TINY), ckpt, img, '--keypoints', '0',
        'left_wrist', '--out', out
    ])
    canvas = cv2.imread(out)
    assert canvas is not None
    # one row per keypoint; image + g=8 subspace panels per row
    assert canvas.shape[0] == 2 * (PANEL_HEIGHT + TITLE_HEIGHT)
    src = cv2.imread(img)
    panel_w = round(src.shape[1] * PANEL_HEIGHT / src.shape[0])
    assert abs(canvas.shape[1] - 9 * panel_w) <= 9
    # the overlay panels are coloured (JET), not copies of the image
    first = canvas[TITLE_HEIGHT:PANEL_HEIGHT + TITLE_HEIGHT, :panel_w]
    second = canvas[TITLE_HEIGHT:PANEL_HEIGHT + TITLE_HEIGHT,
                    panel_w:2 * panel_w]
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 5


def test_collected_maps_are_the_head_attention(tiny_model, samples_root):
    img = osp.join(samples_root, 'coco', '000000000785.jpg')
    attn, ids, sample = collect_subspace_attention(tiny_model, img,
                                                   ['left_wrist', 3])
    assert ids == [9, 3]
    # BottomupResize 'expand': short side 128, heatmaps at 1/4 of the input
    w, h = sample.metainfo['input_size']
    assert min(w, h) == 128
    assert attn.shape == (2, 8, h // 4, w // 4)
    np.testing.assert_allclose(attn.sum(axis=(-2, -1)), 1.0, rtol=1e-4)
    all_maps, all_ids, _ = collect_subspace_attention(tiny_model, img)
    assert all_ids == list(range(17))
    np.testing.assert_allclose(all_maps[[9, 3]], attn, rtol=1e-5)
    assert 'input_center' in sample.metainfo


def test_bad_requests_are_clear_errors(tiny_model, samples_root):
    img = osp.join(samples_root, 'coco', '000000000785.jpg')
    with pytest.raises(ValueError, match='unknown keypoint name'):
        collect_subspace_attention(tiny_model, img, ['left_wing'])
    with pytest.raises(ValueError, match='out of range'):
        collect_subspace_attention(tiny_model, img, [17])


def test_attention_sharpness_by_hand():
    from mmpose_attn.visualization.subspace_attention import \
        attention_sharpness
    uniform = np.full((2, 4), 1 / 8)
    spike = np.zeros((2, 4))
    spike[1, 2] = 1.0
    half = np.zeros((2, 4))
    half[0, :2] = 0.5
    stats = attention_sharpness(np.stack([uniform, spike, half])[None])
    np.testing.assert_allclose(stats['peak_ratio'], [[1, 8, 4]])
    # entropy over log(8): 1, 0 and log(2) / log(8) = 1/3
    np.testing.assert_allclose(stats['entropy_ratio'], [[1, 0, 1 / 3]],
                               atol=1e-12)
