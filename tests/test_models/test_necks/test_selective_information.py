"""SelectiveInformationModule (SPCNet Sec. 3.3, Eqs. 2-4) and the Table 2
fusion ablations."""
import pytest
import torch
import torch.nn.functional as F

from mmpose_attn.models.backbones.dilated_hourglass import HourglassOutput
from mmpose_attn.models.necks.selective_information import (
    SelectiveInformationModule, SIMOutput)

C, S = 6, 3  # channels per stack feature, stacks
SIZES = (4, 4, 8, 16)  # the paper's 16, 16, 32, 64 px, scaled down


def backbone_output(batch=2, sizes=SIZES, seed=0):
    g = torch.Generator().manual_seed(seed)
    levels = tuple(
        tuple(torch.randn(batch, C, s, s, generator=g) for _ in range(S))
        for s in sizes)
    heatmaps = tuple(torch.randn(batch, 5, 16, 16, generator=g)
                     for _ in range(S))
    return HourglassOutput(heatmaps=heatmaps, levels=levels, stack_feats=())


def build(fusion='attention', **kwargs):
    torch.manual_seed(0)
    sim = SelectiveInformationModule(
        in_channels=C, num_stacks=S, num_levels=4, out_channels=8,
        fusion=fusion, **kwargs)
    return sim.eval()


def reference(sim, inputs):
    """Slow, per-level/per-pixel version of Sec. 3.3 written from the
    equations."""
    xs = []
    for conv, feats in zip(sim.collect_convs, inputs.levels):
        x = conv(torch.cat(feats, 1))
        xs.append(F.interpolate(x, size=(16, 16), mode='nearest'))
    m = sim.squeeze(sum(xs))  # M = conv1x1(X1 + ... + X4), 4 channels
    b, _, h, w = m.shape
    fused = torch.zeros_like(xs[0])
    weights = torch.zeros_like(m)
    for i in range(h):
        for j in range(w):
            e = torch.exp(m[:, :, i, j])
            a = e / e.sum(1, keepdim=True)  # Eq. 2
            weights[:, :, i, j] = a
            for n in range(4):  # Eq. 4
                fused[:, :, i, j] += a[:, n:n + 1] * xs[n][:, :, i, j]
    return fused, weights, xs


def test_attention_matches_the_equations():
    sim, inputs = build(), backbone_output()
    with torch.no_grad():
        out = sim(inputs)
        fused, weights, _ = reference(sim, inputs)
    assert isinstance(out, SIMOutput)
    assert out.fused.shape == (2, 8, 16, 16)
    assert out.weights.shape == (2, 4, 16, 16)
    torch.testing.assert_close(out.weights, weights)
    torch.testing.assert_close(out.fused, fused)
    # heatmaps are passed through for the intermediate supervision
    assert all(a is b for a, b in zip(out.heatmaps, inputs.heatmaps))


def test_weights_sum_to_one_per_pixel():
    sim = build()
    sim.squeeze.bias.data = torch.tensor([5., -5., 0., 2.])  # far from 1/4
    with torch.no_grad():
        weights = sim(backbone_output(seed=1)).weights
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(1), torch.ones(2, 16, 16))  # Eq.3
    # content-aware: not the same mix everywhere
    assert weights.flatten(2).std(-1).max() > 1e-3


def test_information_collection():
    sim = build()
    conv = sim.collect_convs[0]
    # same-level features of all stacks concatenated (paper: 8 x 256 = 2048)
    # -> conv1x1 -> BN -> ReLU
    assert conv[0].in_channels == S * C and conv[0].kernel_size == (1, 1)
    assert [type(m).__name__ for m in conv] == ['Conv2d', 'BatchNorm2d',
                                                'ReLU']
    with torch.no_grad():
        inputs = backbone_output()
        xs = sim.collect(inputs.levels)
    assert xs.shape == (2, 4, 8, 16, 16)
    # a 4x4 level is upsampled by pixel replication to 16x16
    small = conv(torch.cat(inputs.levels[0], 1))
    torch.testing.assert_close(
        xs[:, 0], small.repeat_interleave(4, -1).repeat_interleave(4, -2))
    assert (xs >= 0).all()  # BN + ReLU before the upsampling


def test_sum_and_concat_ablations():
    inputs = backbone_output()
    with torch.no_grad():
        xs = build('sum').collect(inputs.levels)
        out_sum = build('sum')(inputs)
        concat = build('concat')
        out_cat = concat(inputs)
        xs_cat = concat.collect(inputs.levels)
    assert out_sum.weights is None and out_cat.weights is None
    assert build('sum').squeeze is None
    torch.testing.assert_close(out_sum.fused, xs.sum(1))
    # concat: 1x1 conv from 4 x 8 channels back to 8
    assert concat.squeeze.in_channels == 4 * 8
    assert concat.squeeze.out_channels == 8
    expected = F.conv2d(torch.cat(list(xs_cat.unbind(1)), 1),
                        concat.squeeze.weight, concat.squeeze.bias)
    torch.testing.assert_close(out_cat.fused, expected)


def test_uniform_attention_is_a_quarter_of_the_sum():
    """With M constant the softmax gives A_n = 1/4 and SIM reduces to the
    'sum' ablation scaled by 1/4 (same IC weights from the same seed)."""
    inputs = backbone_output()
    sim = build()
    sim.squeeze.weight.data.zero_()
    sim.squeeze.bias.data.zero_()
    with torch.no_grad():
        out = sim(inputs)
        out_sum = build('sum')(inputs)
    torch.testing.assert_close(out.weights, torch.full_like(out.weights, .25))
    torch.testing.assert_close(out.fused, out_sum.fused / 4)


def test_gradients_reach_every_level():
    sim = build().train()
    inputs = backbone_output()
    for lv in inputs.levels:
        for t in lv:
            t.requires_grad_()
    sim(inputs).fused.sum().backward()
    assert all(t.grad.abs().sum() > 0 for lv in inputs.levels for t in lv)


def test_bad_input():
    with pytest.raises(ValueError, match='fusion'):
        SelectiveInformationModule(fusion='max')
    with pytest.raises(ValueError, match='expected 4 levels of 3 stack'):
        build()(backbone_output(sizes=(4, 8, 16)))
    with pytest.raises(TypeError, match='per-level decoder features'):
        build()((torch.zeros(1, 6, 16, 16), ))


def test_attention_runs_in_float32_under_autocast():
    """--amp: the softmax over levels (Eqs. 2-3) runs in float32 on the
    low-precision logits, so A sums to 1 per pixel to float32 precision;
    CPU bfloat16 autocast would otherwise run it in bfloat16."""
    sim, inputs = build(), backbone_output()
    sim.squeeze.bias.data = torch.tensor([5., -5., 0., 2.])
    with torch.no_grad():
        ref = sim(inputs)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = sim(inputs)
            logits = sim.squeeze(sim.collect(inputs.levels).sum(1))
            low = logits.softmax(1)
    assert logits.dtype == low.dtype == torch.bfloat16
    assert out.weights.dtype == torch.float32
    torch.testing.assert_close(out.weights, logits.float().softmax(1),
                               rtol=0, atol=0)
    torch.testing.assert_close(out.weights.sum(1), torch.ones(2, 16, 16),
                               rtol=0, atol=1e-6)
    assert (low.float().sum(1) - 1).abs().max() > 1e-3  # what it avoids
    # F (Eq. 4) within bfloat16 rounding of the float32 module
    torch.testing.assert_close(out.fused.float(), ref.fused, rtol=2e-2,
                               atol=2e-2)


def test_autocast_gradients_match_float32():
    inputs = backbone_output()
    grads = []
    for autocast in (False, True):
        sim = build().train()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            out = sim(inputs)
        (out.fused.float().square().mean() +
         out.weights[:, 0].mean()).backward()
        grads.append(torch.cat([p.grad.flatten() for p in sim.parameters()]))
    assert torch.isfinite(grads[1]).all()
    assert F.cosine_similarity(grads[0], grads[1], dim=0) > 0.999
