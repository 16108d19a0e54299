import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import save_checkpoint
from mmpose.apis import init_model
from mmpose.registry import MODELS

from mmpose_attn.tools.visualize_sg import main as visualize_sg
from mmpose_attn.visualization.sg_maps import (draw_sg_maps,
                                               load_coco_instance,
                                               predict_sg_maps)

TINY = 'sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py'
IMG = '000000196141.jpg'


def test_draw_layout_and_colors():
    crop = np.full((64, 48, 3), 128, np.uint8)
    maps = np.zeros((4, 16, 12), np.float32)
    maps[2, :8] = 1.
    target = np.zeros((16, 12), np.float32)
    canvas = draw_sg_maps(crop, maps, target, alpha=1.)
    # enlarged x4 to be at least 160 wide; 4-pixel gaps; 22-pixel titles
    assert canvas.shape == (22 + 256, 6 * 192 + 5 * 4, 3)
    stage4 = canvas[22:, 3 * (192 + 4):3 * (192 + 4) + 192]
    # JET: 1 is red at the top half, 0 is blue at the bottom half (BGR)
    assert stage4[0, 0, 2] > 100 and stage4[0, 0, 0] < 50
    assert stage4[-1, 0, 0] > 100 and stage4[-1, 0, 2] < 50
    with pytest.raises(ValueError, match='S = 4'):
        draw_sg_maps(crop, maps[:3])


@pytest.fixture(scope='module')
def tiny_checkpoint(config_root, tmp_path_factory):
    cfg = Config.fromfile(osp.join(config_root, 'sghrnet', TINY))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('sg') / 'tiny.pth')
    save_checkpoint({'state_dict': model.state_dict()}, path)
    return osp.join(config_root, 'sghrnet', TINY), path


@pytest.fixture
def tiny_model_on_sample(samples_root, tiny_checkpoint):
    """A fresh tiny model (tests may edit its cfg), the sample image, its
    person box and ground-truth keypoints."""
    config, ckpt = tiny_checkpoint
    img = osp.join(samples_root, 'coco', IMG)
    gt = load_coco_instance(
        osp.join(samples_root, 'coco', 'test_coco.json'), img)
    bbox = gt.pop('bbox')
    return init_model(config, ckpt, device='cpu'), img, bbox, gt


def test_predict_maps_and_target(tiny_model_on_sample):
    model, img, bbox, gt = tiny_model_on_sample
    crop, maps, target = predict_sg_maps(model, img, bbox, **gt)
    assert crop.shape == (128, 96, 3) and crop.dtype == np.uint8
    assert maps.shape == (4, 32, 24)
    assert maps.min() >= 0 and maps.max() <= 1
    assert target.shape == (32, 24)
    assert set(np.unique(target)) == {0., 1.}
    _, _, no_target = predict_sg_maps(model, img, bbox)
    assert no_target is None


def test_target_through_a_keypoint_converter(tiny_model_on_sample):
    # e.g. an LSP config evaluated on MPII images: the test pipeline maps
    # the joints and gives (visible, mapped) pairs per joint
    model, img, bbox, gt = tiny_model_on_sample
    _, _, target = predict_sg_maps(model, img, bbox, **gt)
    pipeline = model.cfg.test_dataloader.dataset.pipeline
    pipeline.insert(
        1,
        dict(
            type='KeypointConverter',
            num_keypoints=17,
            mapping=[(k, k) for k in range(17)]))
    _, _, converted = predict_sg_maps(model, img, bbox, **gt)
    np.testing.assert_array_equal(converted, target)
    assert target.any()


def test_cli_writes_png(samples_root, tiny_checkpoint, tmp_path):
    config, ckpt = tiny_checkpoint
    out = str(tmp_path / 'sg.png')
    visualize_sg([
        config, ckpt,
        osp.join(samples_root, 'coco', IMG), '--out', out, '--ann',
        osp.join(samples_root, 'coco', 'test_coco.json')
    ])
    canvas = mmcv.imread(out)
    assert canvas.shape == (22 + 256, 6 * 192 + 5 * 4, 3)

    out = str(tmp_path / 'sg_nogt.png')
    visualize_sg([
        config, ckpt,
        osp.join(samples_root, 'coco', IMG), '--out', out, '--bbox', '10',
        '10', '200', '300'
    ])
    assert mmcv.imread(out).shape == (22 + 256, 5 * 192 + 4 * 4, 3)


def test_bad_annotation(samples_root):
    ann = osp.join(samples_root, 'coco', 'test_coco.json')
    with pytest.raises(ValueError, match='no image'):
        load_coco_instance(ann, 'missing.jpg')
    with pytest.raises(ValueError, match='asked for instance 99'):
        load_coco_instance(ann, IMG, instance=99)
