import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample


CODEC = dict(
    type='SegmentationHeatmap',
    input_size=(48, 64),
    heatmap_size=(12, 16),
    sigma=1,
    radius=2)


def _head(**kwargs):
    return MODELS.build(
        dict(
            type='SGHeatmapHead',
            in_channels=8,
            out_channels=3,
            decoder=CODEC,
            **kwargs))


def _samples(codec, n=2, seed=0):
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n):
        kpts = rng.uniform(5, 40, size=(1, 3, 2))
        enc = codec.encode(kpts, np.ones((1, 3), np.float32))
        sample = PoseDataSample(metainfo=dict(flip_indices=[0, 2, 1]))
        sample.gt_fields = PixelData(
            heatmaps=torch.from_numpy(enc['heatmaps']),
            seg_map=torch.from_numpy(enc['seg_map']))
        sample.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(enc['keypoint_weights']))
        sample.gt_instances = InstanceData()
        samples.append(sample)
    return samples


def _feats(n=2, seed=0, scale=4.):
    """SGHRNet's ``with_seg_logits`` output ``(seg_logits, feature)``: map
    logits in [-scale, scale] (probabilities 0.018-0.982 for the default)
    and one feature map."""
    g = torch.Generator().manual_seed(seed)
    feat = torch.rand(n, 8, 16, 12, generator=g)
    return ((torch.rand(n, 4, 16, 12, generator=g) * 2 - 1) * scale, feat)


def _loss_by_hand(head, feats, samples, prob_form=True):
    """Eq. 5 and Eq. 6 (stage average, lambda = 0.002) written out."""
    gt_hm = torch.stack([s.gt_fields.heatmaps for s in samples])
    weights = torch.cat(
        [s.gt_instance_labels.keypoint_weights for s in samples])
    gt_seg = torch.stack([s.gt_fields.seg_map for s in samples])
    l_key = ((head.final_layer(feats[-1]) - gt_hm)**2 *
             weights[..., None, None]).mean()
    logits = feats[0]
    per_stage = [
        F.binary_cross_entropy(torch.sigmoid(logits[:, s:s + 1]), gt_seg)
        if prob_form else F.binary_cross_entropy_with_logits(
            logits[:, s:s + 1], gt_seg) for s in range(4)
    ]
    return l_key, 0.002 * torch.stack(per_stage).mean()


def test_forward_is_heatmap_heads():
    head = _head()
    feats = _feats()
    heatmaps = head(feats)
    assert heatmaps.shape == (2, 3, 16, 12)
    torch.testing.assert_close(heatmaps, head.final_layer(feats[-1]))
    # features without maps predict the same: maps are for the loss only
    torch.testing.assert_close(heatmaps, head(feats[1:]))


def test_loss_is_eq7_with_mean_reductions():
    head = _head().train()
    samples = _samples(head.decoder)
    feats = _feats()
    losses = head.loss(feats, samples)
    assert set(losses) == {
        'loss_kpt', 'loss_seg', 'dwa_weight_kpt', 'dwa_weight_seg',
        'acc_pose'
    }
    l_key, l_seg = _loss_by_hand(head, feats, samples)
    assert losses['dwa_weight_kpt'] == 1 and losses['dwa_weight_seg'] == 1
    torch.testing.assert_close(losses['loss_kpt'], l_key)
    # from logits, equal to the probability form where that is finite
    torch.testing.assert_close(losses['loss_seg'], l_seg)


def test_segmentation_loss_from_logits_where_probabilities_saturate():
    """A confidently wrong pixel: logit -200 where the target is 1. On
    probabilities sigmoid(-200) == 0 in float32, BCE clamps log(0) to -100
    and the pixel gets no gradient; from logits the loss is the exact 200
    per pixel and the gradient is -1 / (number of pixels)."""
    head = _head().train()
    samples = _samples(head.decoder)
    feats = _feats()
    gt_seg = torch.stack([s.gt_fields.seg_map for s in samples])
    logits = torch.where(gt_seg.expand(-1, 4, -1, -1) > 0,
                         torch.tensor(-200.), torch.tensor(200.))
    logits.requires_grad_(True)
    feats = (logits, feats[-1])
    losses = head.loss(feats, samples)
    torch.testing.assert_close(losses['loss_seg'], torch.tensor(0.002 * 200.))
    _, prob_form = _loss_by_hand(head, feats, samples)
    assert prob_form < 0.002 * 101  # clamped
    losses['loss_seg'].backward()
    torch.testing.assert_close(
        logits.grad,
        0.002 * torch.sigmoid(logits.detach()).sub(
            gt_seg.expand_as(logits)) / logits.numel())
    assert (logits.grad != 0).all()


def test_dwa_state_advances_per_training_step():
    head = _head().train()
    samples = _samples(head.decoder)
    for seed in range(3):
        losses = head.loss(_feats(seed=seed), samples)
    assert head.loss_module.num_steps.item() == 3
    assert losses['dwa_weight_kpt'] + losses['dwa_weight_seg'] == \
        pytest.approx(2.)
    assert losses['dwa_weight_kpt'] != 1.


def test_loss_under_bfloat16_autocast():
    """Mixed precision: the head's conv runs in bfloat16, the losses and the
    DWA weights in float32; three steps agree with float32 to 2%."""
    samples = _samples(_head().decoder)
    torch.manual_seed(0)
    head32 = _head().train()
    head16 = _head().train()
    head16.load_state_dict(head32.state_dict())
    for seed in range(3):
        feats = _feats(seed=seed)
        ref = head32.loss(feats, samples)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = head16.loss(
                tuple(f.bfloat16() for f in feats), samples)
        for k in ('loss_kpt', 'loss_seg', 'dwa_weight_kpt',
                  'dwa_weight_seg'):
            assert out[k].dtype == torch.float32, k
            assert torch.isfinite(out[k]), k
            torch.testing.assert_close(out[k], ref[k], rtol=2e-2, atol=0)


def test_predict_with_flip_test():
    """Prediction is MMPose's HeatmapHead's, on the features after the
    maps, flip test included."""
    head = _head().eval()
    stock = MODELS.build(
        dict(
            type='HeatmapHead',
            in_channels=8,
            out_channels=3,
            deconv_out_channels=None,
            decoder=CODEC)).eval()
    stock.final_layer.load_state_dict(head.final_layer.state_dict())
    samples = _samples(head.decoder)
    feats, flipped = _feats(), _feats(seed=1)
    test_cfg = dict(flip_test=True, shift_heatmap=True)
    preds = head.predict([feats, flipped], samples, test_cfg)
    ref = stock.predict([feats[1:], flipped[1:]], samples, test_cfg)
    assert len(preds) == len(ref) == 2
    for p, r in zip(preds, ref):
        assert p.keypoints.shape == (1, 3, 2)
        np.testing.assert_array_equal(p.keypoints, r.keypoints)
        np.testing.assert_array_equal(p.keypoint_scores, r.keypoint_scores)
    # and not the unflipped prediction alone
    single = head.predict(feats, samples, dict(flip_test=False))
    assert not np.array_equal(single[0].keypoint_scores,
                              preds[0].keypoint_scores)


def test_missing_maps_target_and_size_mismatch():
    head = _head().train()
    logits, feat = _feats()
    # HRNet's tuple without the maps, single- or multi-scale
    for no_maps in ((feat, ), (feat, feat[:, :, ::2, ::2])):
        with pytest.raises(TypeError, match='with_seg_logits=True'):
            head.loss(no_maps, _samples(head.decoder))
    samples = _samples(head.decoder)
    for s in samples:
        del s.gt_fields.seg_map
    with pytest.raises(KeyError, match='SegmentationHeatmap'):
        head.loss(_feats(), samples)
    with pytest.raises(ValueError, match='quarter of the input'):
        head.loss((logits[..., :8], feat[..., :8]), _samples(head.decoder))


def test_reads_the_maps_first_and_the_heatmap_feature_last():
    """``(seg_logits, *features)``: the maps are ``feats[0]``, the heatmaps
    come from ``feats[-1]`` (as in every MMPose head), whatever lies
    between."""
    first = _head().train()
    second = _head().train()
    second.load_state_dict(first.state_dict())
    samples = _samples(first.decoder)
    logits, feat = _feats()
    single = first.loss((logits, feat), samples)
    longer = second.loss((logits, torch.rand(2, 8, 16, 12), feat), samples)
    for k in ('loss_kpt', 'loss_seg'):
        torch.testing.assert_close(longer[k], single[k])
    swapped = _head().train()
    swapped.load_state_dict(first.state_dict())
    other = swapped.loss((logits, feat, torch.rand(2, 8, 16, 12)), samples)
    assert not torch.equal(other['loss_kpt'], single['loss_kpt'])
