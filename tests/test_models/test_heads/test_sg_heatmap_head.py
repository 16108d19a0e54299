import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from mmpose_attn.models.backbones.sg_hrnet import SGHRNetOutput

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
    """SGHRNet-like features: one feature map and map logits in
    [-scale, scale] (probabilities 0.018-0.982 for the default)."""
    g = torch.Generator().manual_seed(seed)
    return SGHRNetOutput([torch.rand(n, 8, 16, 12, generator=g)],
                         (torch.rand(n, 4, 16, 12, generator=g) * 2 - 1) *
                         scale)


def _loss_by_hand(head, feats, samples, prob_form=True):
    """Eq. 5 and Eq. 6 (stage average, lambda = 0.002) written out."""
    gt_hm = torch.stack([s.gt_fields.heatmaps for s in samples])
    weights = torch.cat(
        [s.gt_instance_labels.keypoint_weights for s in samples])
    gt_seg = torch.stack([s.gt_fields.seg_map for s in samples])
    l_key = ((head.final_layer(feats[0]) - gt_hm)**2 *
             weights[..., None, None]).mean()
    logits = feats.seg_logits
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
    torch.testing.assert_close(heatmaps, head.final_layer(feats[0]))
    # plain tuples (no maps) predict the same: maps are for the loss only
    torch.testing.assert_close(heatmaps, head(tuple(feats)))


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
    feats = SGHRNetOutput(list(feats), logits)
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
                SGHRNetOutput([feats[0].bfloat16()],
                              feats.seg_logits.bfloat16()), samples)
        for k in ('loss_kpt', 'loss_seg', 'dwa_weight_kpt',
                  'dwa_weight_seg'):
            assert out[k].dtype == torch.float32, k
            assert torch.isfinite(out[k]), k
            torch.testing.assert_close(out[k], ref[k], rtol=2e-2, atol=0)


def test_predict_with_flip_test():
    head = _head().eval()
    samples = _samples(head.decoder)
    feats = _feats()
    preds = head.predict([feats, feats], samples,
                         dict(flip_test=True, shift_heatmap=False))
    assert len(preds) == 2
    assert preds[0].keypoints.shape == (1, 3, 2)


def test_missing_maps_target_and_size_mismatch():
    head = _head().train()
    with pytest.raises(TypeError, match='SGHRNet'):
        head.loss(tuple(_feats()), _samples(head.decoder))
    samples = _samples(head.decoder)
    for s in samples:
        del s.gt_fields.seg_map
    with pytest.raises(KeyError, match='SegmentationHeatmap'):
        head.loss(_feats(), samples)
    feats = _feats()
    with pytest.raises(ValueError, match='quarter of the input'):
        head.loss(
            SGHRNetOutput(list(feats), feats.seg_logits[..., :8]),
            _samples(head.decoder))
