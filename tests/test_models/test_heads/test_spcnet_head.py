"""SPCNetHead: 8 stack + 1 SIM supervision (Eq. 6), SIM heatmap decoded
(Eq. 7); it reads positions of a plain tuple."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData, PixelData

from mmpose.models.heads import CPMHead
from mmpose.models.losses import KeypointMSELoss
from mmpose.structures import PoseDataSample
from mmpose_attn.models.heads.spcnet_head import SPCNetHead

K, S = 4, 3
CODEC = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)


def head(use_fused=True):
    torch.manual_seed(0)
    return SPCNetHead(
        in_channels=8, out_channels=K, num_stacks=S, use_fused=use_fused,
        decoder=CODEC)


def peaked(positions, batch=2):
    """Heatmaps with one peak per keypoint at ``positions`` [(x, y)]."""
    hm = torch.zeros(batch, K, 16, 16)
    for k, (x, y) in enumerate(positions):
        hm[:, k, y, x] = 1.
    return hm


def samples(batch=2):
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(batch):
        s = PoseDataSample()
        s.gt_fields = PixelData(heatmaps=torch.rand(K, 16, 16, generator=g))
        s.gt_instance_labels = InstanceData(
            keypoint_weights=torch.tensor([[1., 0., 1., 1.]]))
        s.set_metainfo(dict(flip_indices=[1, 0, 3, 2]))
        out.append(s)
    return out


def identity_convs(h):
    """Each 1x1 conv copies the first K input channels: a feature with a
    peak in channel k gives a heatmap with that peak."""
    for conv in h.multi_final_layers:
        conv.weight.data.zero_()
        conv.bias.data.zero_()
        conv.weight.data[:, :K, 0, 0] = torch.eye(K)


def as_features(heatmaps):
    """(B, K, h, w) -> (B, 8, h, w): what :func:`identity_convs` maps back."""
    return torch.cat([heatmaps, torch.zeros(2, 8 - K, 16, 16)], 1)


def neck_output(seed=0):
    """The SIM's output: S stack features, then F."""
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(2, 8, 16, 16, generator=g) for _ in range(S + 1))


def test_one_conv_per_stack_and_one_for_f():
    h = head()
    feats = neck_output()
    out = h.forward(feats)
    assert h.num_stages == S + 1 and len(out) == S + 1
    # state dict: CPMHead's names, the SIM's conv last
    assert sorted(k for k in h.state_dict() if 'final' in k) == sorted(
        f'multi_final_layers.{i}.{p}' for i in range(S + 1)
        for p in ('weight', 'bias'))
    for o, f, conv in zip(out, feats, h.multi_final_layers):
        assert conv.kernel_size == (1, 1)
        torch.testing.assert_close(o, F.conv2d(f, conv.weight, conv.bias),
                                   rtol=0, atol=0)


def test_without_sim_it_equals_cpmhead():
    """use_fused=False: MMPose's CPMHead with one 1x1 conv per stack, the
    same state dict and the same outputs, loss and predictions."""
    h = head(use_fused=False)
    torch.manual_seed(0)
    cpm = CPMHead(8, K, num_stages=S, deconv_out_channels=None,
                  decoder=CODEC)
    assert h.state_dict().keys() == cpm.state_dict().keys()
    cpm.load_state_dict(h.state_dict())
    feats = neck_output()[:S]
    for a, b in zip(h.forward(feats), cpm.forward(feats)):
        assert torch.equal(a, b)
    data = samples()
    assert torch.equal(h.loss(feats, data)['loss_kpt'],
                       cpm.loss(feats, data)['loss_kpt'])
    np.testing.assert_array_equal(
        h.predict(feats, data)[0].keypoints,
        cpm.predict(feats, data)[0].keypoints)


def test_loss_sums_the_nine_mse_terms():
    h = head()
    feats = neck_output()
    data = samples()
    losses = h.loss(feats, data)
    gt = torch.stack([d.gt_fields.heatmaps for d in data])
    w = torch.cat([d.gt_instance_labels.keypoint_weights for d in data])
    mse = KeypointMSELoss(use_target_weight=True)
    preds = [
        F.conv2d(f, conv.weight, conv.bias)
        for f, conv in zip(feats, h.multi_final_layers)
    ]
    expected = sum(mse(p, gt, w) for p in preds)
    torch.testing.assert_close(losses['loss_kpt'], expected)
    # by hand for one term: masked mean over B x K x H x W
    manual = ((preds[0] - gt)**2 * w[..., None, None]).mean()
    torch.testing.assert_close(mse(preds[0], gt, w), manual)


def test_predict_decodes_the_sim_heatmap():
    h = head()
    identity_convs(h)
    sim_peaks = [(3, 4), (10, 2), (7, 7), (12, 13)]
    stacks = [as_features(peaked([(0, 0)] * K)) for _ in range(S)]
    fused = as_features(peaked(sim_peaks))
    preds = h.predict((*stacks, fused), samples())
    # heatmap (x, y) * stride 4 (MSRAHeatmap, no refinement on one-hot peaks)
    np.testing.assert_allclose(preds[0].keypoints[0],
                               np.array(sim_peaks) * 4.)


def test_flip_test_averages_sim_heatmaps():
    h = head()
    identity_convs(h)
    stacks = [torch.zeros(2, 8, 16, 16) for _ in range(S)]
    fused = as_features(peaked([(5, 5)] * K))
    preds, fields = h.predict([(*stacks, fused)] * 2,
                              samples(),
                              dict(flip_test=True, output_heatmaps=True))
    # the flipped pass un-flips x=5 to 10: both peaks at half height
    hm = fields[0].heatmaps
    assert hm[0, 5, 5] == pytest.approx(0.5) and hm[0, 5, 10] == 0.5


def test_without_sim_it_decodes_the_last_stack():
    h = head(use_fused=False)
    identity_convs(h)
    stacks = [as_features(peaked([(1, 1)] * K))] * (S - 1) + [
        as_features(peaked([(9, 3)] * K))
    ]
    assert len(h.forward(tuple(stacks))) == S
    preds = h.predict(tuple(stacks), samples())
    np.testing.assert_allclose(preds[0].keypoints[0], [[36., 12.]] * K)


def test_bad_input():
    feats = neck_output()
    with pytest.raises(ValueError, match=r'expected 4 features \(the stacks'
                       r"' features then the SIM's F"):
        head().forward(feats[:S])
    with pytest.raises(ValueError, match='expected 3 features'):
        head(False).forward(feats)


def test_loss_is_float32_under_autocast():
    """--amp: the 9 heatmaps come out in float32 (CPMHead's accuracy goes
    through numpy, which has no bfloat16) and the MSE terms (Eq. 6) equal
    float32 arithmetic on the low-precision heatmaps."""
    h = head()
    feats = neck_output()
    data = samples()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = h.loss(feats, data)
        out = h.forward(feats)
        low = [conv(f) for f, conv in zip(feats, h.multi_final_layers)]
    assert all(heatmap.dtype == torch.bfloat16 for heatmap in low)
    assert all(o.dtype == torch.float32 for o in out)
    loss = losses['loss_kpt']
    assert loss.dtype == torch.float32 and 0 <= losses['acc_pose'] <= 1
    gt = torch.stack([d.gt_fields.heatmaps for d in data])
    w = torch.cat([d.gt_instance_labels.keypoint_weights for d in data])
    mse = KeypointMSELoss(use_target_weight=True)
    expected = sum(mse(p.float(), gt, w) for p in low)
    torch.testing.assert_close(loss, expected)
