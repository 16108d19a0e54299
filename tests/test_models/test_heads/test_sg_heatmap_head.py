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


def _feats(n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 8, 16, 12, generator=g),
            torch.rand(n, 4, 16, 12, generator=g).clamp(.01, .99))


def test_forward_uses_final_features_only():
    head = _head()
    feat, seg_maps = _feats()
    heatmaps = head((feat, seg_maps))
    assert heatmaps.shape == (2, 3, 16, 12)
    torch.testing.assert_close(heatmaps, head.final_layer(feat))
    torch.testing.assert_close(heatmaps, head((feat, seg_maps * 0)))


def test_loss_is_eq7_with_mean_reductions():
    head = _head().train()
    samples = _samples(head.decoder)
    feat, seg_maps = _feats()
    losses = head.loss((feat, seg_maps), samples)
    assert set(losses) == {
        'loss_kpt', 'loss_seg', 'dwa_weight_kpt', 'dwa_weight_seg',
        'acc_pose'
    }
    gt_hm = torch.stack([s.gt_fields.heatmaps for s in samples])
    weights = torch.cat(
        [s.gt_instance_labels.keypoint_weights for s in samples])
    gt_seg = torch.stack([s.gt_fields.seg_map for s in samples])
    # Eq. 5: MSE between heatmaps (KeypointMSELoss, masked by weights)
    l_key = ((head((feat, seg_maps)) - gt_hm)**2 *
             weights[..., None, None]).mean()
    # Eq. 6: BCE of every stage map against the one target, averaged over
    # the N = 4 stages; lambda = 0.002 (Eq. 7)
    l_seg = torch.stack([
        F.binary_cross_entropy(seg_maps[:, s:s + 1], gt_seg)
        for s in range(4)
    ]).mean()
    assert losses['dwa_weight_kpt'] == 1 and losses['dwa_weight_seg'] == 1
    torch.testing.assert_close(losses['loss_kpt'], l_key)
    torch.testing.assert_close(losses['loss_seg'], 0.002 * l_seg)


def test_dwa_state_advances_per_training_step():
    head = _head().train()
    samples = _samples(head.decoder)
    for seed in range(3):
        losses = head.loss(_feats(seed=seed), samples)
    assert head.loss_module.num_steps.item() == 3
    assert losses['dwa_weight_kpt'] + losses['dwa_weight_seg'] == \
        pytest.approx(2.)
    assert losses['dwa_weight_kpt'] != 1.


def test_loss_under_autocast():
    head = _head().train()
    feat, seg_maps = _feats()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss((feat, seg_maps.bfloat16()),
                           _samples(head.decoder))
    assert losses['loss_seg'].dtype == torch.float32
    assert torch.isfinite(losses['loss_seg'])


def test_predict_with_flip_test():
    head = _head().eval()
    samples = _samples(head.decoder)
    feats = _feats()
    preds = head.predict([feats, feats], samples,
                         dict(flip_test=True, shift_heatmap=False))
    assert len(preds) == 2
    assert preds[0].keypoints.shape == (1, 3, 2)


def test_missing_target_and_size_mismatch():
    head = _head().train()
    samples = _samples(head.decoder)
    for s in samples:
        del s.gt_fields.seg_map
    with pytest.raises(KeyError, match='SegmentationHeatmap'):
        head.loss(_feats(), samples)
    feat, seg_maps = _feats()
    with pytest.raises(ValueError, match='quarter of the input'):
        head.loss((feat, seg_maps[..., :8]), _samples(head.decoder))
