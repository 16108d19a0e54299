import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import nn

from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
CODEC = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)


def resnet_model(test_cfg):
    return dict(
        type='TopdownPoseEstimator',
        backbone=dict(
            type='ResNet', depth=18, stem_channels=8, base_channels=8),
        head=dict(
            type='HeatmapHead',
            in_channels=64,
            out_channels=17,
            deconv_out_channels=(16, 16, 16),
            decoder=CODEC),
        test_cfg=test_cfg)


def hrnet_model(test_cfg):
    def stage(n, block='BASIC'):
        return dict(
            num_modules=1, num_branches=n, block=block,
            num_blocks=(1, ) * n,
            num_channels=tuple(4 * 2**i for i in range(n)))

    extra = dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                    num_blocks=(1, ), num_channels=(8, )),
        stage2=stage(2), stage3=stage(3), stage4=stage(4))
    return dict(
        type='TopdownPoseEstimator',
        backbone=dict(type='HRNet', in_channels=3, extra=extra),
        head=dict(
            type='HeatmapHead', in_channels=4, out_channels=17,
            deconv_out_channels=None, decoder=CODEC),
        test_cfg=test_cfg)


def cpm_model(test_cfg):
    # CPM's stem is wide with large kernels: 32x32 crops keep tests fast.
    codec = dict(CODEC, input_size=(32, 32), heatmap_size=(4, 4), sigma=1)
    return dict(
        type='TopdownPoseEstimator',
        backbone=dict(
            type='CPM', in_channels=3, out_channels=17, feat_channels=16,
            middle_channels=8, num_stages=2),
        head=dict(
            type='CPMHead', in_channels=17, out_channels=17, num_stages=2,
            deconv_out_channels=None, final_layer=None, decoder=codec),
        test_cfg=test_cfg)


def build_pair(model_cfg):
    """Stock estimator and ours with identical random weights."""
    torch.manual_seed(0)
    stock = MODELS.build(copy.deepcopy(model_cfg))
    with torch.no_grad():
        for p in stock.parameters():
            p.normal_(0, 0.1)
    ours_cfg = copy.deepcopy(model_cfg)
    ours_cfg['type'] = 'MultiScaleTopdownPoseEstimator'
    ours = MODELS.build(ours_cfg)
    ours.load_state_dict(stock.state_dict())
    return stock.eval(), ours.eval()


def data_samples(n, flip_indices=COCO_FLIP, size=64):
    samples = []
    for _ in range(n):
        sample = PoseDataSample(
            metainfo=dict(
                input_size=np.array([size, size]),
                input_center=np.array([size / 2, size / 2]),
                input_scale=np.array([size, size], dtype=np.float32),
                flip_indices=flip_indices))
        sample.gt_instances = InstanceData(
            bboxes=np.array([[0, 0, size, size]], dtype=np.float32),
            bbox_scores=np.ones(1, dtype=np.float32))
        samples.append(sample)
    return samples


def predict(model, inputs, flip_indices=COCO_FLIP):
    samples = data_samples(len(inputs), flip_indices, inputs.shape[-1])
    with torch.no_grad():
        return model(inputs, samples, mode='predict')


def assert_same_predictions(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.pred_instances.keypoints,
                                      y.pred_instances.keypoints)
        np.testing.assert_array_equal(x.pred_instances.keypoint_scores,
                                      y.pred_instances.keypoint_scores)
        assert torch.equal(x.pred_fields.heatmaps, y.pred_fields.heatmaps)


@pytest.mark.parametrize('builder,size,test_cfg', [
    (resnet_model, 64, dict(flip_test=False)),
    (resnet_model, 64, dict(flip_test=True)),
    (hrnet_model, 64, dict(flip_test=True, shift_heatmap=True)),
    (cpm_model, 32, dict(flip_test=False)),
    (cpm_model, 32, dict(flip_test=True)),
])
def test_single_scale_equals_stock(builder, size, test_cfg):
    test_cfg = dict(test_cfg, output_heatmaps=True)
    stock, ours = build_pair(builder(test_cfg))
    assert ours.test_cfg.get('scales', [1.0]) == [1.0]
    inputs = torch.randn(2, 3, size, size)
    assert_same_predictions(predict(stock, inputs), predict(ours, inputs))


def final(outputs):
    return outputs[-1] if isinstance(outputs, list) else outputs


def manual_tta(stock, inputs, scales, divisor, flip_indices, shift, ref_hw):
    """Slow reference: per-scale stock forward passes, resized back."""
    total, count = 0, 0
    for s in scales:
        size = [int(np.floor(d * s / divisor + 0.5)) * divisor
                for d in inputs.shape[-2:]]
        x = F.interpolate(inputs, size=size, mode='bilinear',
                          align_corners=False)
        outs = [final(stock._forward(x))]
        outs.append(
            flip_heatmaps(
                final(stock._forward(x.flip(-1))), flip_indices=flip_indices,
                shift_heatmap=shift))
        for out in outs:
            total = total + F.interpolate(
                out, size=ref_hw, mode='bilinear', align_corners=False)
            count += 1
    return total / count


@pytest.mark.parametrize('builder,size,divisor,scales', [
    (resnet_model, 64, 32, [0.5, 1.0, 1.5]),
    (cpm_model, 32, 8, [0.5, 1.0, 1.5]),
    # no unscaled pass: the reference size comes from the codec
    (resnet_model, 64, 32, [0.5, 1.5]),
])
def test_multiscale_flip_matches_manual_reference(builder, size, divisor,
                                                  scales):
    test_cfg = dict(flip_test=True, shift_heatmap=True, scales=scales,
                    size_divisor=divisor, output_heatmaps=True)
    stock, ours = build_pair(builder(test_cfg))
    inputs = torch.randn(2, 3, size, size)
    ref_hw = (size // 4, size // 4) if builder is resnet_model else (size //
                                                                     8, ) * 2
    with torch.no_grad():
        expected = manual_tta(stock, inputs, scales, divisor, COCO_FLIP,
                              True, ref_hw)
    results = predict(ours, inputs)
    got = torch.stack([r.pred_fields.heatmaps for r in results])
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    expected_kpts, expected_scores = zip(
        *[(p.keypoints, p.keypoint_scores)
          for p in stock.head.decode(expected)])
    np.testing.assert_allclose(
        np.concatenate([r.pred_instances.keypoints for r in results]),
        np.concatenate(expected_kpts), atol=1e-4)
    np.testing.assert_allclose(
        np.concatenate([r.pred_instances.keypoint_scores for r in results]),
        np.concatenate(expected_scores), atol=1e-6)
    # Multi-scale really changes the heatmaps (the scales are not no-ops).
    single = predict(build_pair(builder(dict(flip_test=True,
                                             shift_heatmap=True,
                                             output_heatmaps=True)))[1],
                     inputs)
    assert not torch.allclose(single[0].pred_fields.heatmaps, got[0])


class _IdentityBackbone(nn.Module):
    """Heatmaps = the input image itself (with an identity head)."""

    def forward(self, x):
        return (x, )


def gaussian_blob(cx, cy, sigma=3.0, size=64):
    ys, xs = torch.meshgrid(
        torch.arange(size, dtype=torch.float32),
        torch.arange(size, dtype=torch.float32),
        indexing='ij')
    return torch.exp(-((xs - cx)**2 + (ys - cy)**2) / (2 * sigma**2))


def test_known_answer_identity_model():
    """With heatmaps equal to the input, every pass reproduces the input's
    blobs; the flipped passes swap keypoints 1 and 2 (flip_indices), so both
    average to a blob at keypoint 1's place of height (1 + 0) / 2."""
    codec = dict(type='MSRAHeatmap', input_size=(64, 64),
                 heatmap_size=(64, 64), sigma=2)
    model = MODELS.build(
        dict(
            type='MultiScaleTopdownPoseEstimator',
            backbone=dict(type='ResNet', depth=18, stem_channels=8,
                          base_channels=8),
            head=dict(type='HeatmapHead', in_channels=3, out_channels=3,
                      deconv_out_channels=None, final_layer=None,
                      decoder=codec),
            test_cfg=dict(flip_test=True, scales=[0.5, 1.0, 1.5, 2.0],
                          size_divisor=8, output_heatmaps=True))).eval()
    model.backbone = _IdentityBackbone()
    p0, p1, p2 = (20.0, 36.0), (44.0, 12.0), (10.0, 50.0)
    image = torch.stack([
        gaussian_blob(*p0),
        gaussian_blob(*p1),
        0.4 * gaussian_blob(*p2),
    ])[None]
    result = predict(model, image, flip_indices=[0, 2, 1])[0]
    kpts = result.pred_instances.keypoints[0]
    scores = result.pred_instances.keypoint_scores[0]
    np.testing.assert_allclose(kpts, [p0, p1, p1], atol=0.3)
    # Resampling at scales != 1 blunts the peak a little (all alike), the
    # flip average halves it for the swapped pair exactly.
    assert scores[0] == pytest.approx(1.0, abs=0.05)
    np.testing.assert_allclose(scores[1:], scores[0] / 2, rtol=1e-4)
    # keypoint 2's own (weaker) blob survives as a secondary peak.
    hm = result.pred_fields.heatmaps
    assert hm[2, int(p2[1]), int(p2[0])] == pytest.approx(0.2, rel=0.05)


def test_scaled_size_rounding():
    model = MODELS.build(
        dict(resnet_model(dict(size_divisor=32)),
             type='MultiScaleTopdownPoseEstimator'))
    # 192 * 0.75 = 144 = 4.5 * 32 rounds half up to 160, not to even 128.
    assert model._scaled_size((256, 192), 0.75) == (192, 160)
    assert model._scaled_size((100, 60), 1.0) == (100, 60)
    assert model._scaled_size((64, 64), 0.1) == (32, 32)


@pytest.mark.parametrize('bad', [
    dict(scales=[]),
    dict(scales=[1.0, -0.5]),
    dict(scales='1.0'),
    dict(size_divisor=0),
    dict(scales=[0.5, 1.0], flip_mode='udp_combined'),
])
def test_invalid_test_cfg(bad):
    with pytest.raises(ValueError, match='MultiScaleTopdownPoseEstimator'):
        MODELS.build(
            dict(resnet_model(bad), type='MultiScaleTopdownPoseEstimator'))
