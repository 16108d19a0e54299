import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import nn

from mmpose.datasets.transforms import GetBBoxCenterScale, LoadImage
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
    dict(multiscale_mode='resize'),
])
def test_invalid_test_cfg(bad):
    with pytest.raises(ValueError, match='MultiScaleTopdownPoseEstimator'):
        MODELS.build(
            dict(resnet_model(bad), type='MultiScaleTopdownPoseEstimator'))


# ---------------------------------------------------------------------------
# 'recrop' mode: the person box re-cropped per scale (PyramidTopdownAffine),
# heatmaps averaged in the original image frame.
# ---------------------------------------------------------------------------
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
TINY_SIZE, TINY_HM = 64, 16


def spcnet_tiny_model(test_cfg, estimator='TopdownPoseEstimator'):
    """SPCNet's tiny layout (2 DHM stacks of 32 channels + SIM), 64x64."""
    codec = dict(type='MSRAHeatmap', input_size=(TINY_SIZE, TINY_SIZE),
                 heatmap_size=(TINY_HM, TINY_HM), sigma=1)
    return dict(
        type=estimator,
        data_preprocessor=dict(
            type='PoseDataPreprocessor', mean=MEAN.tolist(),
            std=STD.tolist(), bgr_to_rgb=True),
        backbone=dict(
            type='DilatedHourglassNet', num_stacks=2, feat_channels=32,
            stem_channels=(16, 32), num_downsamples=2, dilation=2,
            dilated_blocks=True, out_levels=True),
        neck=dict(type='SelectiveInformationModule', in_channels=32,
                  num_stacks=2, num_levels=4, out_channels=32,
                  fusion='attention'),
        head=dict(type='SPCNetHead', in_channels=32, out_channels=16,
                  num_stacks=2, use_fused=True,
                  loss=dict(type='KeypointMSELoss', use_target_weight=True),
                  decoder=codec),
        test_cfg=test_cfg)


def spcnet_tiny_pair(test_cfg, recrop_cfg):
    """Stock estimator and ours in 'recrop' mode, same random weights (BN
    statistics too, so every layer matters)."""
    torch.manual_seed(0)
    stock = MODELS.build(spcnet_tiny_model(test_cfg))
    with torch.no_grad():
        for p in stock.parameters():
            p.normal_(0, 0.1)
        for m in stock.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    ours = MODELS.build(
        spcnet_tiny_model(dict(test_cfg, **recrop_cfg),
                          'MultiScaleTopdownPoseEstimator'))
    ours.load_state_dict(stock.state_dict())
    return stock.eval(), ours.eval()


def mpii_samples(samples_root, crop):
    from mmpose.registry import DATASETS
    return DATASETS.build(
        dict(
            type='MpiiDataset', data_root=samples_root, data_mode='topdown',
            ann_file='mpii/test_mpii.json', data_prefix=dict(img='mpii/'),
            test_mode=True, serialize_data=False,
            pipeline=[dict(type='LoadImage'),
                      dict(type='GetBBoxCenterScale')] + crop +
            [dict(type='PackPoseInputs')]))


def run_test_step(model, dataset):
    from mmengine.dataset import pseudo_collate
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    with torch.no_grad():
        return model.test_step(batch)


@pytest.mark.parametrize('flip', [False, True])
def test_recrop_single_scale_equals_stock_on_samples(samples_root, flip):
    test_cfg = dict(flip_test=flip, shift_heatmap=True, output_heatmaps=True)
    stock, ours = spcnet_tiny_pair(
        test_cfg, dict(multiscale_mode='recrop', scales=[1.0]))
    affine = dict(type='TopdownAffine', input_size=(TINY_SIZE, TINY_SIZE))
    pyramid = dict(type='PyramidTopdownAffine',
                   input_size=(TINY_SIZE, TINY_SIZE), scales=[1.0])
    expected = run_test_step(stock, mpii_samples(samples_root, [affine]))
    got = run_test_step(ours, mpii_samples(samples_root, [pyramid]))
    assert len(got) == 5
    assert_same_predictions(got, expected)


def _flip_back(hm, flip_indices):
    """Stock flip test's un-flipping by hand: swap left/right channels,
    mirror, shift one pixel right (shift_heatmap=True)."""
    out = hm[flip_indices, :, ::-1].copy()
    out[..., 1:] = out[..., :-1].copy()
    return out


def _bilinear_zero_outside(hm, u, v):
    """hm (K, h, w) at (u, v), neighbours outside the map count as 0."""
    k, h, w = hm.shape
    x0, y0 = int(np.floor(u)), int(np.floor(v))
    value = np.zeros(k)
    for dy in (0, 1):
        for dx in (0, 1):
            x, y = x0 + dx, y0 + dy
            weight = (1 - abs(u - x)) * (1 - abs(v - y))
            if 0 <= x < w and 0 <= y < h and weight > 0:
                value += weight * hm[:, y, x]
    return value


def slow_recrop_reference(model, results, scales, flip_indices):
    """Re-crop the box by hand at every scale, predict each crop and its
    mirror image, and map every heatmap cell to the image and from there
    into each scale's heatmap, one frame cell at a time."""
    import cv2
    from mmpose.structures.bbox import get_warp_matrix

    img, center = results['img'], results['bbox_center'][0]
    box = results['bbox_scale'][0].max()  # the square box of a 64x64 input
    pad = int(np.ceil((max(scales) - 1) * TINY_HM / 2 - 1e-9))
    cell = box / TINY_HM  # image pixels per heatmap cell at scale 1
    heatmaps = []
    for s in scales:
        warp = get_warp_matrix(center, np.array([box * s] * 2), 0,
                               (TINY_SIZE, TINY_SIZE))
        crop = cv2.warpAffine(img, warp, (TINY_SIZE, TINY_SIZE),
                              flags=cv2.INTER_LINEAR)
        x = (crop[..., ::-1] - MEAN) / STD
        x = torch.from_numpy(x.transpose(2, 0, 1).copy()).float()[None]
        with torch.no_grad():
            hm = model.head.forward(model.extract_feat(x))[-1][0].numpy()
            hm_flip = model.head.forward(model.extract_feat(x.flip(-1)))
        hm_flip = _flip_back(hm_flip[-1][0].numpy(), flip_indices)
        heatmaps.append((s, (hm + hm_flip) / 2))
    size = TINY_HM + 2 * pad
    frame = np.zeros((16, size, size))
    for s, hm in heatmaps:
        for fy in range(size):
            for fx in range(size):
                # frame cell -> image -> this scale's heatmap
                px = (fx - pad) * cell + center[0] - box / 2
                py = (fy - pad) * cell + center[1] - box / 2
                u = (px - center[0]) * TINY_HM / (box * s) + TINY_HM / 2
                v = (py - center[1]) * TINY_HM / (box * s) + TINY_HM / 2
                frame[:, fy, fx] += _bilinear_zero_outside(hm, u, v)
    frame /= len(scales)
    kpts, scores = model.head.decoder.decode(frame.astype(np.float32))
    # input pixels of the frame -> image
    kpts = (kpts - pad * TINY_SIZE / TINY_HM) / TINY_SIZE * box + (
        center - box / 2)
    return kpts, scores, frame[:, pad:pad + TINY_HM, pad:pad + TINY_HM]


@pytest.mark.parametrize('scales', [[0.8, 1.25], [1.0, 1.3]])
def test_two_scale_recrop_matches_slow_reference(samples_root, scales):
    test_cfg = dict(flip_test=True, shift_heatmap=True, output_heatmaps=True)
    stock, ours = spcnet_tiny_pair(
        test_cfg, dict(multiscale_mode='recrop', scales=scales))
    pyramid = dict(type='PyramidTopdownAffine',
                   input_size=(TINY_SIZE, TINY_SIZE), scales=scales)
    dataset = mpii_samples(samples_root, [pyramid])
    got = run_test_step(ours, dataset)
    raw = mpii_samples(samples_root, [])
    flip_indices = dataset.metainfo['flip_indices']
    for i, pred in enumerate(got):
        results = GetBBoxCenterScale()(LoadImage()(raw.get_data_info(i)))
        kpts, scores, hm = slow_recrop_reference(stock, results, scales,
                                                 flip_indices)
        np.testing.assert_allclose(
            pred.pred_fields.heatmaps.numpy(), hm, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(pred.pred_instances.keypoints, kpts,
                                   atol=1e-3)
        np.testing.assert_allclose(pred.pred_instances.keypoint_scores,
                                   scores, rtol=1e-4, atol=1e-6)
    assert len(got) == 5
    # the pyramid changes the predictions (its scales are not no-ops)
    single = run_test_step(stock, mpii_samples(samples_root, [
        dict(type='TopdownAffine', input_size=(TINY_SIZE, TINY_SIZE))
    ]))
    assert not np.allclose(
        np.stack([p.pred_instances.keypoints for p in single]),
        np.stack([p.pred_instances.keypoints for p in got]))


def test_pyramid_affine_stacks_the_crops(samples_root):
    """One crop per scale, stacked along the height in the order of the
    scales; the unscaled crop is TopdownAffine's; the geometry stays the
    unscaled box's."""
    scales = [1.0, 0.5, 2.0]
    affine = dict(type='TopdownAffine', input_size=(TINY_SIZE, TINY_SIZE))
    stock = mpii_samples(samples_root, [affine])[0]
    pyramid = mpii_samples(samples_root, [
        dict(type='PyramidTopdownAffine',
             input_size=(TINY_SIZE, TINY_SIZE), scales=scales)
    ])[0]
    crops = pyramid['inputs']
    assert tuple(crops.shape) == (3, 3 * TINY_SIZE, TINY_SIZE)
    assert torch.equal(crops[:, :TINY_SIZE], stock['inputs'])
    for key in ('input_center', 'input_scale', 'input_size'):
        np.testing.assert_array_equal(pyramid['data_samples'].metainfo[key],
                                      stock['data_samples'].metainfo[key])
    # a 2x box halves the person: its crop is the unscaled crop shrunk
    import cv2
    half = cv2.resize(stock['inputs'].permute(1, 2, 0).numpy(),
                      (TINY_SIZE // 2, TINY_SIZE // 2),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    big = crops[:, 2 * TINY_SIZE:].permute(1, 2, 0).numpy().astype(np.float32)
    q = TINY_SIZE // 4
    unshrunk = stock['inputs'].permute(1, 2, 0).numpy()[q:3 * q, q:3 * q]
    assert np.abs(big[q:3 * q, q:3 * q] - half).mean() < 0.5 * np.abs(
        unshrunk.astype(np.float32) - half).mean()


def test_recrop_needs_the_pyramid_crops(samples_root):
    _, ours = spcnet_tiny_pair(
        dict(flip_test=False),
        dict(multiscale_mode='recrop', scales=[0.8, 1.0]))
    affine = dict(type='TopdownAffine', input_size=(TINY_SIZE, TINY_SIZE))
    with pytest.raises(ValueError, match='PyramidTopdownAffine'):
        run_test_step(ours, mpii_samples(samples_root, [affine]))


def test_frame_padding():
    pad = MODELS.get('MultiScaleTopdownPoseEstimator').frame_padding
    assert pad([1.0], (64, 48)) == (0, 0)
    assert pad([0.5, 0.9], (64, 64)) == (0, 0)
    # PyraNet's 0.8 ... 1.3: 0.3 * 64 / 2 = 9.6 -> 10 cells each side
    assert pad([0.8, 0.9, 1.0, 1.1, 1.2, 1.3], (64, 64)) == (10, 10)
    assert pad([1.25], (16, 16)) == (2, 2)
