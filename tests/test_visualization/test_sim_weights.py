"""Pictures of the SIM weights A1..A4 (SPCNet Eqs. 2-4)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpose_attn.visualization.sim_weights import (LEVEL_COLORS,
                                                   PANEL_HEIGHT, TITLE_HEIGHT,
                                                   draw_sim_weights,
                                                   save_sim_weights,
                                                   weights_to_image)

TINY = 'spcnet_dilated-hourglass2-tiny_1xb2-2e_toy-64x64.py'
TINY_BASELINE = 'td-hm_hourglass2-tiny_1xb2-2e_toy-64x64.py'


def jet(value):
    return cv2.applyColorMap(np.uint8([[value]]), cv2.COLORMAP_JET)[0, 0]


def test_draw_sim_weights_hand_fixture():
    """64x64 grey image (panel scale 4); crop rows/cols 16..47; A1 = 1 on
    its left half, A3 = 1 on its right half; NaN outside the crop."""
    img = np.full((64, 64, 3), 100, np.uint8)
    weights = np.full((4, 64, 64), np.nan)
    weights[:, 16:48, 16:48] = 0
    weights[0, 16:48, 16:32] = 1
    weights[2, 16:48, 32:48] = 1
    canvas = draw_sim_weights(img, weights, [16, 16, 32, 64])
    assert canvas.shape == (TITLE_HEIGHT + PANEL_HEIGHT, 6 * 256, 3)

    def px(panel, y, x):  # image pixel (y, x) in panel n, away from edges
        return canvas[TITLE_HEIGHT + 4 * y + 2, 256 * panel + 4 * x + 2]

    grey = np.array([100, 100, 100])
    left, right, outside = (30, 20), (30, 40), (4, 4)
    for panel in range(6):
        np.testing.assert_array_equal(px(panel, *outside), grey)
    np.testing.assert_array_equal(px(0, *left), grey)
    hot, cold = 0.6 * jet(255) + 40, 0.6 * jet(0) + 40
    np.testing.assert_allclose(px(1, *left), hot, atol=1)
    np.testing.assert_allclose(px(1, *right), cold, atol=1)
    np.testing.assert_allclose(px(3, *right), hot, atol=1)
    np.testing.assert_allclose(px(2, *left), cold, atol=1)
    # last panel: the dominant level's colour
    np.testing.assert_allclose(
        px(5, *left), 0.6 * LEVEL_COLORS[0] + 40, atol=1)
    np.testing.assert_allclose(
        px(5, *right), 0.6 * LEVEL_COLORS[2] + 40, atol=1)
    with pytest.raises(ValueError, match='do not match the image'):
        draw_sim_weights(img, weights[:, :10])


def test_weights_to_image_uses_mmposes_keypoint_mapping():
    """Heatmap pixel u maps to x = u * scale / w + center - scale / 2, the
    mapping MMPose decodes keypoints with."""
    weights = np.zeros((4, 16, 16), np.float32)
    weights[1] = 1.
    center, scale = np.array([50., 40.]), np.array([32., 32.])
    out = weights_to_image(weights, (80, 100), center, scale)
    assert out.shape == (4, 80, 100)
    inside = ~np.isnan(out[0])
    ys, xs = np.nonzero(inside)
    # heatmap pixel u lands on x = 2u + 34 and covers x +- 1 (2 image px per
    # heatmap px): u = 0..15 covers x = 33..64
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (33, 64, 23, 54)
    np.testing.assert_allclose(out[1][inside], 1.)  # edges included
    np.testing.assert_allclose(out[0][inside], 0.)
    # linear inside: a ramp u -> u / 15 maps to (x - 34) / 30
    ramp = np.tile(np.arange(16, dtype=np.float32) / 15, (4, 16, 1))
    mapped = weights_to_image(ramp, (80, 100), center, scale)
    np.testing.assert_allclose(mapped[0, 40, 34:65:2], np.arange(16) / 15,
                               atol=1e-6)


def _tiny_model(config_root, name):
    from mmpose.apis import init_model
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(config_root, 'spcnet', name))
    return init_model(cfg, None, device='cpu')


def _sample(samples_root):
    img = osp.join(samples_root, 'mpii', '005808361.jpg')
    # MPII annotation of this image: centre (966, 340), scale 4.72 (x200 px)
    half = 4.718488 * 200 / 2
    return img, [966 - half, 340 - half, 966 + half, 340 + half]


def test_save_sim_weights_on_a_real_image(config_root, samples_root,
                                          tmp_path):
    model = _tiny_model(config_root, TINY)
    img, bbox = _sample(samples_root)
    out = str(tmp_path / 'sim.png')
    weights = save_sim_weights(model, img, out, bbox)
    assert weights.shape == (4, 16, 16)
    np.testing.assert_allclose(weights.sum(0), 1., rtol=1e-5)
    canvas = cv2.imread(out)
    image = cv2.imread(img)
    assert canvas.shape[0] == TITLE_HEIGHT + PANEL_HEIGHT
    panel_w = round(image.shape[1] * PANEL_HEIGHT / image.shape[0])
    assert canvas.shape[1] == 6 * panel_w


def test_models_without_sim_are_refused(config_root, samples_root, tmp_path):
    model = _tiny_model(config_root, TINY_BASELINE)
    img, bbox = _sample(samples_root)
    with pytest.raises(ValueError, match='no Selective Information Module'):
        save_sim_weights(model, img, str(tmp_path / 'x.png'), bbox)


def test_cli(config_root, samples_root, tmp_path):
    from mmpose_attn.tools import visualize_sim
    model = _tiny_model(config_root, TINY)
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    img, bbox = _sample(samples_root)
    out = str(tmp_path / 'cli.png')
    visualize_sim.main([
        osp.join(config_root, 'spcnet', TINY), ckpt, img, '--out', out,
        '--bbox', *map(str, bbox)
    ])
    assert cv2.imread(out) is not None
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        visualize_sim.main([
            osp.join(config_root, 'spcnet', TINY), ckpt,
            str(tmp_path / 'missing.jpg')
        ])
