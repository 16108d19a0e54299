"""SelectiveInformationModule (SPCNet Sec. 3.3, Eqs. 2-4) and the Table 2
fusion ablations."""
import pytest
import torch
import torch.nn.functional as F

from mmpose_attn.models.backbones import DilatedHourglassNet
from mmpose_attn.models.necks.selective_information import \
    SelectiveInformationModule

C, S = 6, 3  # channels per stack feature, stacks
SIZES = (4, 4, 8, 16)  # the paper's 16, 16, 32, 64 px, scaled down


def backbone_output(batch=2, sizes=SIZES, seed=0):
    """DilatedHourglassNet(out_levels=True)'s layout: level ``l`` of stack
    ``s`` at ``l * S + s``, then the S stacks' features."""
    g = torch.Generator().manual_seed(seed)
    levels = [
        torch.randn(batch, C, size, size, generator=g) for size in sizes
        for _ in range(S)
    ]
    stack_feats = [torch.randn(batch, C, 16, 16, generator=g)
                   for _ in range(S)]
    return (*levels, *stack_feats)


def levels_of(inputs, num_levels=4, num_stacks=S):
    return [inputs[i * num_stacks:(i + 1) * num_stacks]
            for i in range(num_levels)]


def build(fusion='attention', **kwargs):
    torch.manual_seed(0)
    sim = SelectiveInformationModule(
        in_channels=C, num_stacks=S, num_levels=4, out_channels=8,
        fusion=fusion, **kwargs)
    return sim.eval()


def reference(sim, inputs, size=16):
    """Slow, per-level/per-pixel version of Sec. 3.3 written from the
    equations."""
    xs = []
    for conv, feats in zip(sim.collect_convs, levels_of(inputs)):
        x = conv(torch.cat(feats, 1))
        xs.append(F.interpolate(x, size=(size, size), mode='nearest'))
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
        weights = sim.level_weights(inputs)
        fused, ref_weights, _ = reference(sim, inputs)
    # a plain tuple: the stacks' features passed through for the
    # intermediate supervision, then F
    assert type(out) is tuple and len(out) == S + 1
    assert all(a is b for a, b in zip(out[:S], inputs[-S:]))
    assert out[-1].shape == (2, 8, 16, 16)
    assert weights.shape == (2, 4, 16, 16)
    torch.testing.assert_close(weights, ref_weights)
    torch.testing.assert_close(out[-1], fused)


def test_weights_sum_to_one_per_pixel():
    sim = build()
    sim.squeeze.bias.data = torch.tensor([5., -5., 0., 2.])  # far from 1/4
    with torch.no_grad():
        weights = sim.level_weights(backbone_output(seed=1))
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
        levels, rest = sim.split(inputs)
        xs = sim.collect(levels)
    # level l of stack s at l * S + s; the stacks' features after them
    assert all(levels[i][s] is inputs[i * S + s] for i in range(4)
               for s in range(S))
    assert all(a is b for a, b in zip(rest, inputs[4 * S:]))
    assert len(rest) == S
    assert xs.shape == (2, 4, 8, 16, 16)
    # a 4x4 level is upsampled by pixel replication to 16x16
    small = conv(torch.cat(inputs[:S], 1))
    torch.testing.assert_close(
        xs[:, 0], small.repeat_interleave(4, -1).repeat_interleave(4, -2))
    assert (xs >= 0).all()  # BN + ReLU before the upsampling


def test_sum_and_concat_ablations():
    inputs = backbone_output()
    levels = levels_of(inputs)
    with torch.no_grad():
        xs = build('sum').collect(levels)
        out_sum = build('sum')(inputs)[-1]
        concat = build('concat')
        out_cat = concat(inputs)[-1]
        xs_cat = concat.collect(levels)
    assert build('sum').squeeze is None
    for fusion in ('sum', 'concat'):
        with pytest.raises(ValueError, match='no selection weights'):
            build(fusion).level_weights(inputs)
    torch.testing.assert_close(out_sum, xs.sum(1))
    # concat: 1x1 conv from 4 x 8 channels back to 8
    assert concat.squeeze.in_channels == 4 * 8
    assert concat.squeeze.out_channels == 8
    expected = F.conv2d(torch.cat(list(xs_cat.unbind(1)), 1),
                        concat.squeeze.weight, concat.squeeze.bias)
    torch.testing.assert_close(out_cat, expected)


def test_uniform_attention_is_a_quarter_of_the_sum():
    """With M constant the softmax gives A_n = 1/4 and SIM reduces to the
    'sum' ablation scaled by 1/4 (same IC weights from the same seed)."""
    inputs = backbone_output()
    sim = build()
    sim.squeeze.weight.data.zero_()
    sim.squeeze.bias.data.zero_()
    with torch.no_grad():
        fused = sim(inputs)[-1]
        weights = sim.level_weights(inputs)
        out_sum = build('sum')(inputs)[-1]
    torch.testing.assert_close(weights, torch.full_like(weights, .25))
    torch.testing.assert_close(fused, out_sum / 4)


def test_gradients_reach_every_level():
    sim = build().train()
    inputs = backbone_output()
    for t in inputs:
        t.requires_grad_()
    sim(inputs)[-1].sum().backward()
    assert all(t.grad.abs().sum() > 0 for t in inputs[:4 * S])
    # the passed-through stack features are not read
    assert all(t.grad is None for t in inputs[4 * S:])


def test_per_level_widths_and_one_stack_as_on_resnet():
    """MMPose's ResNet/HRNet: one "stack", a width per level, finest level
    first: F is at the finest level's size, X_n in the given order."""
    torch.manual_seed(0)
    widths, sizes = (4, 8, 16, 32), (16, 8, 4, 2)
    sim = SelectiveInformationModule(
        in_channels=widths, num_stacks=1, num_levels=4,
        out_channels=8).eval()
    assert [c[0].in_channels for c in sim.collect_convs] == list(widths)
    feats = tuple(torch.randn(2, c, s, s) for c, s in zip(widths, sizes))
    with torch.no_grad():
        out = sim(feats)
        xs = [
            F.interpolate(conv(f), size=(16, 16), mode='nearest')
            for conv, f in zip(sim.collect_convs, feats)
        ]
        weights = sim.squeeze(sum(xs)).softmax(1)
    assert len(out) == 1
    torch.testing.assert_close(
        out[0], sum(weights[:, n:n + 1] * xs[n] for n in range(4)))


def test_reads_the_dilated_hourglass_output():
    """The positions it reads are the backbone's levels and stacks."""
    backbone = DilatedHourglassNet(
        num_stacks=2, feat_channels=8, stem_channels=(8, 8),
        out_levels=True)
    backbone.eval()
    sim = SelectiveInformationModule(
        in_channels=8, num_stacks=2, num_levels=4, out_channels=4)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        stack_feats, levels = backbone.forward_stacks(x)
        split, rest = sim.split(backbone(x))
    for level in range(4):
        for stack in range(2):
            assert torch.equal(split[level][stack], levels[stack][level])
    assert all(torch.equal(a, b) for a, b in zip(rest, stack_feats))


def test_bad_input():
    with pytest.raises(ValueError, match='fusion'):
        SelectiveInformationModule(fusion='max')
    with pytest.raises(ValueError, match='3 in_channels for 4 levels'):
        SelectiveInformationModule(in_channels=(8, 8, 8), num_levels=4)
    with pytest.raises(ValueError, match='4 levels x 3 stacks = 12 level'):
        build()(backbone_output()[:11])
    with pytest.raises(ValueError, match='out_levels=True'):
        build()((torch.zeros(1, 6, 16, 16), ))


def test_attention_runs_in_float32_under_autocast():
    """--amp: the softmax over levels (Eqs. 2-3) runs in float32 on the
    low-precision logits, so A sums to 1 per pixel to float32 precision;
    CPU bfloat16 autocast would otherwise run it in bfloat16."""
    sim, inputs = build(), backbone_output()
    sim.squeeze.bias.data = torch.tensor([5., -5., 0., 2.])
    with torch.no_grad():
        ref = sim(inputs)[-1]
        with torch.autocast('cpu', dtype=torch.bfloat16):
            fused = sim(inputs)[-1]
            weights = sim.level_weights(inputs)
            logits = sim.squeeze(sim.collect(levels_of(inputs)).sum(1))
            low = logits.softmax(1)
    assert logits.dtype == low.dtype == torch.bfloat16
    assert weights.dtype == torch.float32
    torch.testing.assert_close(weights, logits.float().softmax(1),
                               rtol=0, atol=0)
    torch.testing.assert_close(weights.sum(1), torch.ones(2, 16, 16),
                               rtol=0, atol=1e-6)
    assert (low.float().sum(1) - 1).abs().max() > 1e-3  # what it avoids
    # F (Eq. 4) within bfloat16 rounding of the float32 module
    torch.testing.assert_close(fused.float(), ref, rtol=2e-2, atol=2e-2)


def test_autocast_gradients_match_float32():
    inputs = backbone_output()
    grads = []
    for autocast in (False, True):
        sim = build().train()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            fused, weights = sim.distribute(
                sim.collect(sim.split(inputs)[0]))
        (fused.float().square().mean() + weights[:, 0].mean()).backward()
        grads.append(torch.cat([p.grad.flatten() for p in sim.parameters()]))
    assert torch.isfinite(grads[1]).all()
    assert F.cosine_similarity(grads[0], grads[1], dim=0) > 0.999
