import pytest
import torch
import torch.nn.functional as F

from mmpose.models.backbones.resnet import BasicBlock
from mmpose.models.backbones.utils import SELayer
from mmpose_attn.models.backbones.dilated_hourglass import (
    Bottleneck, DilatedHourglassNet)
from mmpose_attn.models.backbones.rfm_hourglass import (
    ReceptiveFortifiedModule, RFMHourglassNet)


def _randomise_bn(module):
    """Non-trivial BN statistics so eval-mode comparisons mean something."""
    g = torch.Generator().manual_seed(0)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g))
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g))


@pytest.mark.parametrize('cin,cout', [(8, 8), (8, 12)])
def test_rfm_shapes_and_parts(cin, cout):
    rfm = ReceptiveFortifiedModule(cin, cout, branch_dilation=3, se_ratio=4)
    x = torch.rand(2, cin, 9, 11)
    assert rfm(x).shape == (2, cout, 9, 11)
    assert rfm.dilated_conv.conv.dilation == (3, 3)
    assert rfm.dilated_conv.conv.padding == (3, 3)
    assert isinstance(rfm.se, SELayer)
    assert rfm.se.conv1.conv.out_channels == cout // 4
    assert (rfm.downsample is None) == (cin == cout)


def test_se_layer_reweights_channels_by_sigmoid_gate():
    se = ReceptiveFortifiedModule(8, 8, se_ratio=2).se.eval()
    x = torch.rand(2, 8, 5, 5)
    gate = torch.sigmoid(se.conv2.conv(F.relu(se.conv1.conv(
        x.mean((2, 3), keepdim=True)))))
    assert torch.allclose(se(x), x * gate, atol=1e-6)
    assert se(x).shape == x.shape


def test_rfm_without_branch_and_se_is_mmpose_basic_block():
    rfm = ReceptiveFortifiedModule(8, 8, branch_dilation=None, se_ratio=None)
    ref = BasicBlock(8, 8)
    _randomise_bn(ref)
    rfm.load_state_dict(ref.state_dict())
    rfm.eval(), ref.eval()
    x = torch.randn(2, 8, 7, 7)
    assert torch.equal(rfm(x), ref(x))


def test_rfm_matches_hand_written_reference():
    rfm = ReceptiveFortifiedModule(6, 10, branch_dilation=2, se_ratio=2)
    _randomise_bn(rfm)
    rfm.eval()
    x = torch.randn(1, 6, 8, 8)

    def bn(m, y):
        return F.batch_norm(y, m.running_mean, m.running_var, m.weight,
                            m.bias, False, 0., m.eps)

    main = bn(rfm.norm2, rfm.conv2(F.relu(bn(rfm.norm1, rfm.conv1(x)))))
    dil = bn(rfm.dilated_conv.bn,
             F.conv2d(x, rfm.dilated_conv.conv.weight, padding=2, dilation=2))
    y = main + dil
    gate = torch.sigmoid(rfm.se.conv2.conv(F.relu(rfm.se.conv1.conv(
        y.mean((2, 3), keepdim=True)))))
    short = bn(rfm.downsample.bn, F.conv2d(x, rfm.downsample.conv.weight))
    expected = F.relu(y * gate + short)
    assert torch.allclose(rfm(x), expected, atol=1e-5)


def _tiny(**kwargs):
    cfg = dict(
        num_stacks=2,
        feat_channels=16,
        stem_channels=(8, 16),
        se_ratio=4,
        level_channels=(4, 8, 16, 32))
    cfg.update(kwargs)
    return RFMHourglassNet(**cfg)


def test_output_is_f1_to_f4_then_the_stacks_features():
    """A plain tuple (F_1..F_4, y_1, y_2): F_n are the last stack's decoder
    levels, highest resolution first, projected to level_channels; y_s the
    stacks' features of forward_stacks, the last stack's last."""
    net = _tiny()
    net.eval()  # BaseBackbone.train() returns None: no chaining
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = net(x)
        stack_feats, levels = net.forward_stacks(x)
    assert type(out) is tuple and len(out) == 4 + 2
    assert [tuple(f.shape[1:]) for f in out] == [
        (4, 16, 16), (8, 8, 8), (16, 4, 4), (32, 2, 2), (16, 16, 16),
        (16, 16, 16)]
    # levels[s] is innermost first: F_1 is the outermost level of stack 2
    for n, (proj, f) in enumerate(zip(net.level_projections, out[:4])):
        assert torch.equal(f, proj(levels[-1][-1 - n]))
    assert torch.equal(out[4], stack_feats[0])
    assert torch.equal(out[5], stack_feats[1])
    assert not torch.equal(out[4], out[5])


def test_paper_geometry_at_256():
    """F_1..F_4 at 64, 32, 16, 8 px with 64..512 channels (Sec. III-C), the
    stack features (H_1's input) at 64 px."""
    net = _tiny(num_stacks=1, level_channels=(64, 128, 256, 512))
    net.eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 256, 256))
    assert [tuple(f.shape[1:]) for f in out] == [
        (64, 64, 64), (128, 32, 32), (256, 16, 16), (512, 8, 8),
        (16, 64, 64)]


def test_every_unit_is_an_rfm_where_newell_has_a_bottleneck():
    rfm_net = _tiny()
    newell = DilatedHourglassNet(
        num_stacks=2, num_downsamples=4, dilated_blocks=False,
        feat_channels=16, stem_channels=(8, 16))
    n_rfm = sum(isinstance(m, ReceptiveFortifiedModule)
                for m in rfm_net.modules())
    n_plain = sum(isinstance(m, Bottleneck) for m in newell.modules())
    assert n_rfm == n_plain > 0
    assert not any(isinstance(m, Bottleneck) for m in rfm_net.modules())


def test_one_output_per_stack_and_basic_block_variant():
    net = _tiny(num_stacks=3, dilated_branch=False, se_ratio=None)
    net.eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 64, 64))
    assert len(out) == 4 + 3 and len(net.hourglasses) == 3
    units = [m for m in net.modules()
             if isinstance(m, ReceptiveFortifiedModule)]
    assert units and all(
        m.dilated_conv is None and m.se is None for m in units)


def test_dilated_blocks_and_out_levels_are_rejected_clearly():
    with pytest.raises(ValueError, match='dilated_blocks=True'):
        _tiny(dilated_blocks=True)
    with pytest.raises(ValueError, match='out_levels=True'):
        _tiny(out_levels=True)


def test_no_level_channels_gives_the_stacks_features_only():
    """level_channels=None: DilatedHourglassNet's output (y_1..y_S), what a
    stock CPMHead(num_stages=S) reads."""
    net = _tiny(level_channels=None)
    net.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = net(x)
        stack_feats, _ = net.forward_stacks(x)
    assert len(out) == 2
    assert all(torch.equal(a, b) for a, b in zip(out, stack_feats))
    with pytest.raises(ValueError, match='level_channels'):
        _tiny(depth=2, num_downsamples=2)


def _feature_loss_grads(net, x):
    """Gradients of a loss on F_1..F_N alone: (level projections, rest)."""
    net.zero_grad()
    num_levels = len(net.level_channels)
    sum((f * f).sum() for f in net(x)[:num_levels]).backward()
    proj = [p.grad.clone() for p in net.level_projections.parameters()]
    rest = [
        torch.zeros_like(p) if p.grad is None else p.grad.clone()
        for n, p in net.named_parameters()
        if not n.startswith('level_projections')
    ]
    return proj, rest


def test_feature_grad_scale_scales_what_losses_on_features_send_back():
    """Fig. 2 / Eq. 8: by default a loss on F_1..F_N (the DLM's) trains the
    hourglass; feature_grad_scale multiplies that gradient (0: detached
    features, the ablation) and leaves the forward pass unchanged."""
    torch.manual_seed(0)
    x = torch.rand(2, 3, 64, 64)
    full = _tiny()
    assert full.feature_grad_scale == 1.0
    proj1, rest1 = _feature_loss_grads(full, x)
    assert sum(g.abs().sum() for g in rest1) > 0
    for scale in (0.25, 0.0):
        net = _tiny(feature_grad_scale=scale)
        net.load_state_dict(full.state_dict())
        with torch.no_grad():
            net.eval(), full.eval()
            x_eval = torch.rand(1, 3, 64, 64)
            for a, b in zip(net(x_eval), full(x_eval)):
                assert torch.equal(a, b)
        net.train(), full.train()
        proj, rest = _feature_loss_grads(net, x)
        for g, g1 in zip(proj, proj1):  # the projections: unscaled
            assert torch.allclose(g, g1, rtol=1e-4, atol=1e-7)
        for g, g1 in zip(rest, rest1):  # the hourglass: scaled
            assert torch.allclose(g, scale * g1, rtol=1e-4, atol=1e-7)
    # the heatmap loss trains the hourglass whatever the scale
    net.zero_grad()
    net(x)[-1].sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for n, p in net.named_parameters()
               if not n.startswith('level_projections'))
    with pytest.raises(ValueError, match='feature_grad_scale'):
        _tiny(feature_grad_scale=1.5)
