"""DilatedHourglassNet: Newell's hourglass with baseline arguments, SPCNet's
Dilated Hourglass Module (Sec. 3.2) otherwise."""
import pytest
import torch
from torch import nn

from mmpose_attn.models.backbones.dilated_hourglass import (
    Bottleneck, BottleneckA, BottleneckB, DilatedHourglassNet,
    HourglassOutput)

BASELINE = dict(num_downsamples=4, dilated_blocks=False, dilation=1)


def newell_residual_params(num_in, num_out):
    """Newell's Lua ``Residual(numIn, numOut)``: BN-ReLU-conv1x1(out/2)-BN-
    ReLU-conv3x3(out/2)-BN-ReLU-conv1x1(out), conv biases, 1x1 skip conv
    when the widths differ."""
    mid = num_out // 2
    n = 2 * num_in + (num_in * mid + mid)
    n += 2 * mid + (9 * mid * mid + mid)
    n += 2 * mid + (mid * num_out + num_out)
    if num_in != num_out:
        n += num_in * num_out + num_out
    return n


def newell_stacked_hourglass_params(f=256, k=16, stacks=8, depth=4):
    """Hand count of Newell's ``hg.lua`` (nModules=1)."""
    stem = (3 * 64 * 49 + 64) + 2 * 64 + newell_residual_params(64, 128)
    stem += newell_residual_params(128, 128) + newell_residual_params(128, f)
    # up1, low1, low3 per level + the innermost low2
    hourglass = (3 * depth + 1) * newell_residual_params(f, f)
    # ll residual, lin (conv1x1 + BN), tmpOut conv1x1
    per_stack = hourglass + newell_residual_params(f, f) + (f * f + f) + 2 * f
    per_stack += f * k + k
    # ll_ and tmpOut_ remaps into the next stack
    remap = (f * f + f) + (k * f + f)
    return stem + stacks * per_stack + (stacks - 1) * remap


def count(model):
    return sum(p.numel() for p in model.parameters())


def blocks(model, cls):
    return [m for m in model.modules() if type(m) is cls]


def spatial_sizes(model, x):
    """Spatial sizes seen by every residual unit inside the hourglasses."""
    model.eval()
    sizes = []
    hooks = [
        m.register_forward_hook(
            lambda mod, inp, out: sizes.append(out.shape[-1]))
        for hg in model.hourglasses for m in hg.modules()
        if isinstance(m, Bottleneck)
    ]
    with torch.no_grad():
        out = model(x)
    for h in hooks:
        h.remove()
    return sizes, out


def test_newell_hand_count_value():
    # 25.43M: the usual "~25M" of the 8-stack hourglass
    assert newell_stacked_hourglass_params() == 25_434_112


def test_baseline_arguments_build_newells_8_stack_hourglass():
    model = DilatedHourglassNet(16, num_stacks=8, **BASELINE)
    assert count(model) == newell_stacked_hourglass_params()
    assert len(model.hourglasses) == 8
    # plain bottlenecks only, no dilation anywhere
    assert not blocks(model, BottleneckA) and not blocks(model, BottleneckB)
    assert all(m.dilation == (1, 1) for m in model.modules()
               if isinstance(m, nn.Conv2d))
    # 4 max-poolings and 4 nearest upsamplings per hourglass
    for hg in model.hourglasses:
        assert sum(isinstance(m, nn.MaxPool2d) for m in hg.modules()) == 4
        assert sum(isinstance(m, nn.Upsample) for m in hg.modules()) == 4
        # 13 residual units per module (3 per level + the innermost)
        assert len(blocks(hg, Bottleneck)) == 13


def test_baseline_goes_down_to_4x4_and_back():
    # topology does not depend on the width: a thin copy at 256 x 256
    model = DilatedHourglassNet(
        5, num_stacks=2, feat_channels=16, stem_channels=(8, 16),
        **BASELINE)
    sizes, out = spatial_sizes(model, torch.rand(1, 3, 256, 256))
    assert min(sizes) == 4 and max(sizes) == 64
    assert sorted(set(sizes)) == [4, 8, 16, 32, 64]
    assert [lv[0].shape[-1] for lv in out.levels] == [8, 16, 32, 64]


def test_dhm_keeps_16x16_after_two_downsamplings():
    model = DilatedHourglassNet(
        5, num_stacks=2, feat_channels=16, stem_channels=(8, 16))
    sizes, out = spatial_sizes(model, torch.rand(2, 3, 256, 256))
    assert sorted(set(sizes)) == [16, 32, 64]
    # decoder levels of Sec. 3.3 ("16, 16, 32, 64 pixels"), innermost first
    assert isinstance(out, HourglassOutput)
    assert [tuple(lv[0].shape) for lv in out.levels] == [
        (2, 16, 16, 16), (2, 16, 16, 16), (2, 16, 32, 32), (2, 16, 64, 64)
    ]
    assert all(len(lv) == 2 for lv in out.levels)
    assert [tuple(h.shape) for h in out.heatmaps] == [(2, 5, 64, 64)] * 2
    assert [tuple(f.shape) for f in out.stack_feats] == [(2, 16, 64, 64)] * 2
    # the last stack's outermost decoder level is its hourglass output
    for hg in model.hourglasses:
        assert sum(isinstance(m, nn.MaxPool2d) for m in hg.modules()) == 2


@pytest.mark.parametrize('dilation', [1, 2, 3])
def test_dhm_dilated_units(dilation):
    f = 16
    model = DilatedHourglassNet(
        5, num_stacks=2, feat_channels=f, stem_channels=(8, 16),
        dilation=dilation)
    # per stack: Bottleneck_b where Newell pools (2 dilated levels),
    # Bottleneck_a for the innermost unit and the two low3 units
    assert len(blocks(model, BottleneckB)) == 2 * 2
    assert len(blocks(model, BottleneckA)) == 2 * 3
    for unit in blocks(model, BottleneckA) + blocks(model, BottleneckB):
        conv3x3 = unit.conv_block[5]
        assert conv3x3.dilation == (dilation, dilation)
        assert conv3x3.padding == (dilation, dilation)
    for unit in blocks(model, BottleneckA):
        assert isinstance(unit.shortcut, nn.Identity)
    for unit in blocks(model, BottleneckB):
        assert isinstance(unit.shortcut, nn.Conv2d)
    # skip branches of the dilated levels stay conventional
    inner = model.hourglasses[0].low2.low2
    assert type(inner.up1[0]) is Bottleneck
    assert type(inner.low2.up1[0]) is Bottleneck
    # only cost over Newell's module: one 1x1 projection per dilated level
    baseline = DilatedHourglassNet(
        5, num_stacks=2, feat_channels=f, stem_channels=(8, 16), **BASELINE)
    assert count(model) - count(baseline) == 2 * 2 * (f * f + f)


def test_dilated_unit_receptive_field():
    """One output pixel sees the 3x3 input taps at offsets {-R, 0, R}
    (Eq. 1) through the dilated conv of Bottleneck_a, and nothing else."""
    for dilation in (1, 2, 3):
        unit = BottleneckA(8, 8, dilation)
        unit.eval()
        with torch.no_grad():  # positive weights: no ReLU masks a tap
            for m in unit.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.abs_()
        x = (torch.rand(1, 8, 15, 15) + 1).requires_grad_()
        unit.conv_block(x)[0, :, 7, 7].sum().backward()
        reach = x.grad[0].abs().sum(0).nonzero() - 7
        taps = torch.tensor([-dilation, 0, dilation])
        expected = torch.cartesian_prod(taps, taps)
        assert torch.equal(reach, expected)


def test_stacks_feed_heatmaps_into_the_next_stack():
    model = DilatedHourglassNet(
        3, num_stacks=2, feat_channels=8, stem_channels=(8, 8))
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = model(x)
        # zeroing the heatmap remap changes stack 2 only
        model.heatmap_remaps[0].weight.zero_()
        model.heatmap_remaps[0].bias.zero_()
        out2 = model(x)
    assert torch.equal(out.heatmaps[0], out2.heatmaps[0])
    assert not torch.allclose(out.heatmaps[1], out2.heatmaps[1])


def test_make_block_is_the_extension_point():
    built = []

    class Tagged(Bottleneck):
        pass

    class Sub(DilatedHourglassNet):

        def make_block(self, in_channels, out_channels, kind):
            built.append(kind)
            return Tagged(in_channels, out_channels, norm_cfg=self.norm_cfg)

    model = Sub(4, num_stacks=2, feat_channels=16, stem_channels=(8, 16))
    # stem 3 + 13 per hourglass + 1 per stack output
    assert len(built) == 3 + 2 * 13 + 2
    assert built.count('b') == 4 and built.count('a') == 6
    assert not [m for m in model.modules() if type(m) is Bottleneck]
    out = model(torch.rand(1, 3, 64, 64))
    assert out.heatmaps[-1].shape == (1, 4, 16, 16)


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_downsamples'):
        DilatedHourglassNet(16, depth=4, num_downsamples=5)
    with pytest.raises(ValueError, match='in_channels == out_channels'):
        BottleneckA(8, 16)
    with pytest.raises(ValueError, match='unknown block kind'):
        DilatedHourglassNet(16, num_stacks=1).make_block(8, 8, 'c')
