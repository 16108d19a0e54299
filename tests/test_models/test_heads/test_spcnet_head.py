"""SPCNetHead: 8 stack + 1 SIM supervision (Eq. 6), SIM heatmap decoded
(Eq. 7)."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from mmpose.models.losses import KeypointMSELoss
from mmpose.structures import PoseDataSample
from mmpose_attn.models.backbones.dilated_hourglass import HourglassOutput
from mmpose_attn.models.heads.spcnet_head import SPCNetHead
from mmpose_attn.models.necks.selective_information import SIMOutput

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


def sim_output(stack_heatmaps, fused):
    return SIMOutput(heatmaps=tuple(stack_heatmaps), fused=fused,
                     weights=None)


def test_forward_appends_the_sim_heatmap():
    h = head()
    stacks = [torch.rand(2, K, 16, 16) for _ in range(S)]
    fused = torch.rand(2, 8, 16, 16)
    out = h.forward(sim_output(stacks, fused))
    assert len(out) == S + 1
    assert all(a is b for a, b in zip(out[:S], stacks))
    torch.testing.assert_close(out[-1], h.final_layer(fused))


def test_loss_sums_the_nine_mse_terms():
    h = head()
    stacks = [torch.rand(2, K, 16, 16) for _ in range(S)]
    feats = sim_output(stacks, torch.rand(2, 8, 16, 16))
    data = samples()
    losses = h.loss(feats, data)
    gt = torch.stack([d.gt_fields.heatmaps for d in data])
    w = torch.cat([d.gt_instance_labels.keypoint_weights for d in data])
    mse = KeypointMSELoss(use_target_weight=True)
    preds = stacks + [h.final_layer(feats.fused)]
    expected = sum(mse(p, gt, w) for p in preds)
    torch.testing.assert_close(losses['loss_kpt'], expected)
    # by hand for one term: masked mean over B x K x H x W
    manual = ((preds[0] - gt)**2 * w[..., None, None]).mean()
    torch.testing.assert_close(mse(preds[0], gt, w), manual)


def test_predict_decodes_the_sim_heatmap():
    h = head()
    sim_peaks = [(3, 4), (10, 2), (7, 7), (12, 13)]
    stacks = [peaked([(0, 0)] * K) for _ in range(S)]
    # the final 1x1 conv: identity on the first K channels of F
    h.final_layer.weight.data.zero_()
    h.final_layer.bias.data.zero_()
    h.final_layer.weight.data[:, :K, 0, 0] = torch.eye(K)
    fused = torch.cat([peaked(sim_peaks), torch.zeros(2, 8 - K, 16, 16)], 1)
    preds = h.predict(sim_output(stacks, fused), samples())
    # heatmap (x, y) * stride 4 (MSRAHeatmap, no refinement on one-hot peaks)
    np.testing.assert_allclose(preds[0].keypoints[0],
                               np.array(sim_peaks) * 4.)


def test_flip_test_averages_sim_heatmaps():
    h = head()
    stacks = [torch.zeros(2, K, 16, 16) for _ in range(S)]
    h.final_layer.weight.data.zero_()
    h.final_layer.bias.data.zero_()
    h.final_layer.weight.data[:, :K, 0, 0] = torch.eye(K)
    fused = torch.cat([peaked([(5, 5)] * K), torch.zeros(2, 8 - K, 16, 16)],
                      1)
    preds, fields = h.predict([sim_output(stacks, fused)] * 2,
                              samples(),
                              dict(flip_test=True, output_heatmaps=True))
    # the flipped pass un-flips x=5 to 10: both peaks at half height
    hm = fields[0].heatmaps
    assert hm[0, 5, 5] == pytest.approx(0.5) and hm[0, 5, 10] == 0.5


def test_without_sim_it_is_the_stacked_hourglass_head():
    h = head(use_fused=False)
    assert h.final_layer is None and h.num_stages == S
    stacks = [peaked([(1, 1)] * K)] * (S - 1) + [peaked([(9, 3)] * K)]
    out = HourglassOutput(heatmaps=tuple(stacks), levels=(), stack_feats=())
    assert len(h.forward(out)) == S
    preds = h.predict(out, samples())
    np.testing.assert_allclose(preds[0].keypoints[0], [[36., 12.]] * K)


def test_bad_input():
    out = HourglassOutput(
        heatmaps=(torch.zeros(1, K, 16, 16), ) * S, levels=(), stack_feats=())
    with pytest.raises(ValueError, match='needs a neck output with `fused`'):
        head().forward(out)
    with pytest.raises(ValueError, match='expected 3 stack heatmaps'):
        head(False).forward(out._replace(heatmaps=out.heatmaps[:2]))


def test_loss_is_float32_under_autocast():
    """--amp: the 9 heatmaps come out in float32 (CPMHead's accuracy goes
    through numpy, which has no bfloat16) and the MSE terms (Eq. 6) equal
    float32 arithmetic on the low-precision heatmaps."""
    h = head()
    stacks = [torch.rand(2, K, 16, 16).bfloat16() for _ in range(S)]
    fused = torch.rand(2, 8, 16, 16)
    data = samples()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = h.loss(sim_output(stacks, fused), data)
        out = h.forward(sim_output(stacks, fused))
        sim_heatmap = h.final_layer(fused)
    assert sim_heatmap.dtype == torch.bfloat16
    assert all(o.dtype == torch.float32 for o in out)
    loss = losses['loss_kpt']
    assert loss.dtype == torch.float32 and 0 <= losses['acc_pose'] <= 1
    gt = torch.stack([d.gt_fields.heatmaps for d in data])
    w = torch.cat([d.gt_instance_labels.keypoint_weights for d in data])
    mse = KeypointMSELoss(use_target_weight=True)
    expected = sum(
        mse(p.float(), gt, w) for p in stacks + [sim_heatmap])
    torch.testing.assert_close(loss, expected)
