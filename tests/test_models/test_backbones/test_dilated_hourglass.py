"""DilatedHourglassNet: Newell's hourglass with baseline arguments, SPCNet's
Dilated Hourglass Module (Sec. 3.2) otherwise; a plain tuple out, read by
stock MMPose heads."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmpose.models.heads import CPMHead, HeatmapHead
from mmpose_attn.models.backbones.dilated_hourglass import (
    Bottleneck, BottleneckA, BottleneckB, DilatedHourglassNet)
from mmpose_attn.models.heads import SPCNetHead

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


def hourglass_backbone_params(f=256, stacks=8, depth=4):
    """Hand count of our backbone with Newell's arguments: ``hg.lua``
    (nModules=1) without its heatmap convs (``tmpOut``, in the head here)
    and heatmap remaps (``tmpOut_``)."""
    stem = (3 * 64 * 49 + 64) + 2 * 64 + newell_residual_params(64, 128)
    stem += newell_residual_params(128, 128) + newell_residual_params(128, f)
    # up1, low1, low3 per level + the innermost low2
    hourglass = (3 * depth + 1) * newell_residual_params(f, f)
    # ll residual, lin (conv1x1 + BN)
    per_stack = hourglass + newell_residual_params(f, f) + (f * f + f) + 2 * f
    # ll_ remap into the next stack
    return stem + stacks * per_stack + (stacks - 1) * (f * f + f)


def newell_stacked_hourglass_params(f=256, k=16, stacks=8, depth=4):
    """Hand count of Newell's ``hg.lua`` (nModules=1): the above plus a
    heatmap conv per stack and a heatmap remap into the next stack."""
    return (hourglass_backbone_params(f, stacks, depth) + stacks *
            (f * k + k) + (stacks - 1) * (k * f + f))


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
    model = DilatedHourglassNet(num_stacks=8, **BASELINE)
    assert count(model) == hourglass_backbone_params()
    # with the per-stack heatmap convs in the head: Newell's network less
    # the 7 heatmap remaps (feature feedback, README interpretation 9)
    head = SPCNetHead(256, 16, num_stacks=8, use_fused=False)
    assert count(model) + count(head) == 25_434_112 - 7 * (16 * 256 + 256)
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
        num_stacks=2, feat_channels=16, stem_channels=(8, 16),
        out_levels=True, **BASELINE)
    sizes, out = spatial_sizes(model, torch.rand(1, 3, 256, 256))
    assert min(sizes) == 4 and max(sizes) == 64
    assert sorted(set(sizes)) == [4, 8, 16, 32, 64]
    # level l of stack s at l * S + s
    assert [out[2 * level].shape[-1] for level in range(4)] == [8, 16, 32, 64]


def test_dhm_keeps_16x16_after_two_downsamplings():
    model = DilatedHourglassNet(
        num_stacks=2, feat_channels=16, stem_channels=(8, 16))
    sizes, _ = spatial_sizes(model, torch.rand(2, 3, 256, 256))
    assert sorted(set(sizes)) == [16, 32, 64]
    for hg in model.hourglasses:
        assert sum(isinstance(m, nn.MaxPool2d) for m in hg.modules()) == 2


def test_output_tuple_layout():
    """Plain tuples: the stacks' features, last stack last; with
    ``out_levels`` the decoder features of Sec. 3.3 ("16, 16, 32, 64
    pixels"), level-major and innermost first, before them."""
    x = torch.rand(2, 3, 256, 256)
    torch.manual_seed(0)
    model = DilatedHourglassNet(
        num_stacks=2, feat_channels=16, stem_channels=(8, 16))
    model.eval()
    with torch.no_grad():
        stack_feats, levels = model.forward_stacks(x)
        out = model(x)
        model.out_levels = True
        with_levels = model(x)
    assert type(out) is tuple and type(with_levels) is tuple
    assert len(out) == 2 and len(with_levels) == 4 * 2 + 2
    for a, b in zip(out, stack_feats):
        assert torch.equal(a, b) and a.shape == (2, 16, 64, 64)
    for a, b in zip(with_levels[-2:], stack_feats):
        assert torch.equal(a, b)
    for level, size in enumerate((16, 16, 32, 64)):
        for stack in range(2):
            feat = with_levels[level * 2 + stack]
            assert torch.equal(feat, levels[stack][level])
            assert feat.shape == (2, 16, size, size)
    # the outermost decoder level is the hourglass output, before the
    # stack's units and conv1x1-BN-ReLU
    with torch.no_grad():
        assert torch.equal(model.stack_outputs[1](with_levels[7]), out[1])


def test_stock_mmpose_heads_read_the_output():
    """HeatmapHead reads the last stack (``feats[-1]``), CPMHead one stack
    per stage; with the same 1x1 convs they agree with each other and with
    a conv on the stacks' features."""
    model = DilatedHourglassNet(
        num_stacks=2, feat_channels=16, stem_channels=(8, 16))
    model.eval()
    cpm = CPMHead(16, 5, num_stages=2, deconv_out_channels=None)
    single = HeatmapHead(16, 5, deconv_out_channels=None)
    single.final_layer.load_state_dict(
        cpm.multi_final_layers[1].state_dict())
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        feats = model(x)
        stack_feats, _ = model.forward_stacks(x)
        per_stack = cpm(feats)
        last = single(feats)
    assert len(per_stack) == 2
    for heatmap, feat, conv in zip(per_stack, stack_feats,
                                   cpm.multi_final_layers):
        torch.testing.assert_close(
            heatmap, F.conv2d(feat, conv.weight, conv.bias), rtol=0, atol=0)
    assert torch.equal(last, per_stack[-1])
    assert last.shape == (1, 5, 16, 16)


@pytest.mark.parametrize('dilation', [1, 2, 3])
def test_dhm_dilated_units(dilation):
    f = 16
    model = DilatedHourglassNet(
        num_stacks=2, feat_channels=f, stem_channels=(8, 16),
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
        num_stacks=2, feat_channels=f, stem_channels=(8, 16), **BASELINE)
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


def newell_heatmap_feedback(model, heatmap_convs, heatmap_remaps, x):
    """Newell's stacking (``hg.lua``): the next stack's input adds 1x1-conv
    remaps of the stack's features *and of its heatmap*. Returns the
    heatmaps."""
    x = model.stem(x)
    heatmaps = []
    for i in range(model.num_stacks):
        feat = model.stack_outputs[i](model.hourglasses[i](x)[0])
        heatmaps.append(heatmap_convs[i](feat))
        if i < model.num_stacks - 1:
            x = x + model.feat_remaps[i](feat) + heatmap_remaps[i](
                heatmaps[-1])
    return heatmaps


def test_feature_feedback_spans_newells_heatmap_feedback():
    """README interpretation 9: the heatmap convs live in the head, so each
    stack feeds back only its features, through one 1x1 conv. Newell's
    feedback ``W_f y + b_f + W_h (P y + b_p) + b_h`` is the same affine map
    of ``y`` as ours with ``W = W_f + W_h P``, ``b = b_f + W_h b_p + b_h``:
    any Newell network is this backbone + SPCNetHead(use_fused=False) with
    composed weights; what Newell adds is only the tie between the fed-back
    map and the supervised heatmap."""
    torch.manual_seed(0)
    k, f = 3, 8
    model = DilatedHourglassNet(
        num_stacks=3, feat_channels=f, stem_channels=(8, 8)).double()
    model.eval()
    head = SPCNetHead(f, k, num_stacks=3, use_fused=False).double()
    for conv in head.multi_final_layers:  # away from the head's 1e-3 init
        nn.init.normal_(conv.weight)
        nn.init.normal_(conv.bias)
    heatmap_remaps = nn.ModuleList(
        nn.Conv2d(k, f, 1) for _ in range(2)).double()
    x = torch.rand(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        newell = newell_heatmap_feedback(model, head.multi_final_layers,
                                         heatmap_remaps, x)
        for remap, conv, h_remap in zip(model.feat_remaps,
                                        head.multi_final_layers,
                                        heatmap_remaps):
            w_h = h_remap.weight[..., 0, 0]
            remap.weight += (w_h @ conv.weight[..., 0, 0])[..., None, None]
            remap.bias += w_h @ conv.bias + h_remap.bias
        ours = head(model(x))
    for a, b in zip(ours, newell):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    # the composed remap is needed: without the heatmap terms the later
    # stacks differ
    with torch.no_grad():
        for remap, conv, h_remap in zip(model.feat_remaps,
                                        head.multi_final_layers,
                                        heatmap_remaps):
            w_h = h_remap.weight[..., 0, 0]
            remap.weight -= (w_h @ conv.weight[..., 0, 0])[..., None, None]
            remap.bias -= w_h @ conv.bias + h_remap.bias
        plain = head(model(x))
    torch.testing.assert_close(plain[0], newell[0], rtol=0, atol=0)
    assert not torch.allclose(plain[2], newell[2])


def test_stacks_feed_features_into_the_next_stack():
    model = DilatedHourglassNet(
        num_stacks=2, feat_channels=8, stem_channels=(8, 8))
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = model(x)
        # zeroing the feature remap changes stack 2 only
        model.feat_remaps[0].weight.zero_()
        model.feat_remaps[0].bias.zero_()
        out2 = model(x)
    assert torch.equal(out[0], out2[0])
    assert not torch.allclose(out[1], out2[1])
    # nothing but the feature remaps joins the stacks
    assert len(model.feat_remaps) == 1
    assert not [n for n, _ in model.named_children() if 'heatmap' in n]


def test_make_block_is_the_extension_point():
    built = []

    class Tagged(Bottleneck):
        pass

    class Sub(DilatedHourglassNet):

        def make_block(self, in_channels, out_channels, kind):
            built.append(kind)
            return Tagged(in_channels, out_channels, norm_cfg=self.norm_cfg)

    model = Sub(num_stacks=2, feat_channels=16, stem_channels=(8, 16))
    # stem 3 + 13 per hourglass + 1 per stack output
    assert len(built) == 3 + 2 * 13 + 2
    assert built.count('b') == 4 and built.count('a') == 6
    assert not [m for m in model.modules() if type(m) is Bottleneck]
    out = model(torch.rand(1, 3, 64, 64))
    assert out[-1].shape == (1, 16, 16, 16)


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_downsamples'):
        DilatedHourglassNet(depth=4, num_downsamples=5)
    with pytest.raises(ValueError, match='in_channels == out_channels'):
        BottleneckA(8, 16)
    with pytest.raises(ValueError, match='unknown block kind'):
        DilatedHourglassNet(num_stacks=1).make_block(8, 8, 'c')
