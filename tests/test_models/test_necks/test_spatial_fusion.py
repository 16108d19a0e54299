import pytest
import torch

from mmpose_attn.models.necks.spatial_fusion import (GlobalSpatialAttention,
                                                     LocalSpatialAttention,
                                                     SpatialFusionModule)

IN_CH = (4, 8, 16, 32)


def _feats(b=2, size=16):
    return [
        torch.randn(b, c, size >> i, size >> i) for i, c in enumerate(IN_CH)
    ]


def test_global_weights_sum_to_one_per_pixel():
    ga = GlobalSpatialAttention(IN_CH, mid_channels=8).eval()
    torch.nn.init.normal_(ga.score_weight, std=1.0)
    outs, w = ga(_feats())
    assert w.shape == (2, 4, 16, 16)
    assert torch.allclose(w.sum(1), torch.ones(2, 16, 16), atol=1e-6)
    assert (w > 0).all() and w.std() > 0.01
    assert [o.shape for o in outs] == [f.shape for f in _feats()]


def test_global_attention_matches_per_level_loop_reference():
    ga = GlobalSpatialAttention(IN_CH, mid_channels=8).eval()
    torch.nn.init.normal_(ga.score_weight, std=1.0)
    torch.nn.init.normal_(ga.score_bias, std=1.0)
    feats = _feats()
    outs, w = ga(feats)
    g = [
        torch.nn.functional.interpolate(
            conv(f), size=(16, 16), mode='bilinear', align_corners=False)
        for conv, f in zip(ga.reduce, feats)
    ]
    u = torch.cat([(gn * ga.score_weight[n].view(1, -1, 1, 1)).sum(
        1, keepdim=True) + ga.score_bias[n] for n, gn in enumerate(g)], 1)
    w_ref = torch.exp(u) / torch.exp(u).sum(1, keepdim=True)  # Eq. 2
    assert torch.allclose(w, w_ref, atol=1e-5)
    fused = sum(w_ref[:, n:n + 1] * g[n] for n in range(4))
    for n, (conv, f) in enumerate(zip(ga.expand, feats)):
        pooled = torch.nn.functional.avg_pool2d(fused, 16 // f.shape[-1])
        assert torch.allclose(outs[n], conv(pooled), atol=1e-5)


def test_local_weights_sum_to_one_along_columns():
    x = torch.randn(2, 3, 5, 7)
    w = LocalSpatialAttention.attention_weights(x)
    assert torch.allclose(w.sum(-2), torch.ones(2, 3, 7), atol=1e-6)
    # a column of constant features is left unchanged
    const = torch.randn(2, 3, 1, 7).expand(2, 3, 5, 7)
    assert torch.allclose(LocalSpatialAttention()(const), const, atol=1e-6)
    y = LocalSpatialAttention()(x)
    assert torch.allclose(y, x * torch.softmax(x, -2) * 5)


def test_sfm_output_is_lowest_resolution_widest():
    sfm = SpatialFusionModule(IN_CH, mid_channels=8,
                              head_channels=(8, 16, 32, 64), out_channels=96)
    out = sfm(_feats())
    assert type(out) is tuple and len(out) == 1
    (y, ) = out
    assert y.shape == (2, 96, 2, 2)
    (y * torch.randn_like(y)).sum().backward()
    # every part (global attention's scores included) shapes the output
    for name, p in sfm.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_classification_head_is_hrnets():
    """HRNet's classification head: bottleneck blocks (expansion 4) widen
    each level, stride-2 3x3 convs go down, a final 1x1 conv to 2048."""
    from mmpose.models.backbones.resnet import Bottleneck
    sfm = SpatialFusionModule()
    assert [type(b) for b in sfm.widen] == [Bottleneck] * 4
    assert [(b.conv1.in_channels, b.mid_channels, b.conv3.out_channels)
            for b in sfm.widen] == [(64, 32, 128), (128, 64, 256),
                                    (256, 128, 512), (512, 256, 1024)]
    assert [(d.conv.in_channels, d.conv.out_channels, d.conv.stride)
            for d in sfm.downsample] == [(128, 256, (2, 2)),
                                         (256, 512, (2, 2)),
                                         (512, 1024, (2, 2))]
    final = sfm.final_layer
    assert (final.conv.kernel_size, final.conv.in_channels,
            final.conv.out_channels) == ((1, 1), 1024, 2048)
    assert sfm.out_channels == 2048
    with pytest.raises(ValueError, match='multiples of 4'):
        SpatialFusionModule(IN_CH, head_channels=(8, 16, 30, 64))


def test_forward_is_global_attention_then_hrnets_head_with_local_attention():
    """The output, written out step by step from the SFM's own parts
    (Sec. III-C): global attention, bottleneck widening, then per level a
    stride-2 conv down, the sum with the next level and the column softmax
    re-weighting, and the final 1x1 conv. Fails when a part is skipped."""
    torch.manual_seed(0)
    sfm = SpatialFusionModule(IN_CH, mid_channels=8,
                              head_channels=(8, 16, 32, 64),
                              out_channels=32).eval()
    torch.nn.init.normal_(sfm.global_attention.score_weight, std=1.0)
    feats = _feats()
    with torch.no_grad():
        (y, ) = sfm(feats)
        fused, _ = sfm.global_attention(feats)
        x = [block(f) for block, f in zip(sfm.widen, fused)]
        ref = x[0]
        for down, nxt in zip(sfm.downsample, x[1:]):
            s = down(ref) + nxt
            ref = s * torch.softmax(s, dim=-2) * s.shape[-2]
        ref = sfm.final_layer(ref)
    assert torch.allclose(y, ref, atol=1e-5)
    # each part changes the output
    assert not torch.allclose(fused[0], feats[0], atol=1e-2)


def test_softmaxes_run_in_float32_under_autocast():
    torch.manual_seed(0)
    sfm = SpatialFusionModule(IN_CH, mid_channels=8,
                              head_channels=(8, 16, 32, 64), out_channels=32)
    torch.nn.init.normal_(sfm.global_attention.score_weight, std=1.0)
    feats = _feats()
    ref = sfm(feats)[0]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        reduced = [conv(f) for conv, f in zip(sfm.global_attention.reduce,
                                              feats)]
        assert reduced[0].dtype == torch.bfloat16
        w = sfm.global_attention.attention_weights(reduced, (16, 16))
        local = LocalSpatialAttention.attention_weights(
            torch.randn(2, 3, 40, 5).bfloat16())
        (y, ) = sfm(feats)
    assert w.dtype == local.dtype == torch.float32
    assert torch.allclose(w.sum(1), torch.ones(2, 16, 16), atol=1e-6)
    assert torch.allclose(local.sum(-2), torch.ones(2, 3, 5), atol=1e-6)
    y.float().sum().backward()
    assert torch.isfinite(y).all()
    assert all(torch.isfinite(p.grad).all() for p in sfm.parameters()
               if p.grad is not None)
    assert torch.allclose(y.float(), ref, rtol=0.1, atol=0.1)


def test_sfm_rejects_bad_input():
    sfm = SpatialFusionModule(IN_CH, mid_channels=8,
                              head_channels=(8, 16, 32, 64))
    with pytest.raises(ValueError, match='expects 4 features'):
        sfm(_feats()[:3])
    with pytest.raises(ValueError, match='same length'):
        SpatialFusionModule((4, 8), head_channels=(8, 16, 32))


def _reference_global_attention(ga, feats):
    """The plain formulation: every G_n up-sampled at full width and kept
    for autograd, U_n projected from G_n, each level pooled from S."""
    F = torch.nn.functional
    size = feats[0].shape[-2:]
    g = torch.stack([
        F.interpolate(conv(f), size=size, mode='bilinear',
                      align_corners=False) if f.shape[-2:] != size else
        conv(f) for conv, f in zip(ga.reduce, feats)
    ], 1)
    u = torch.einsum('bnchw,nc->bnhw', g, ga.score_weight)
    w = (u + ga.score_bias.view(1, -1, 1, 1)).softmax(1)
    fused = torch.einsum('bnhw,bnchw->bchw', w, g)
    outs = tuple(
        conv(F.adaptive_avg_pool2d(fused, f.shape[-2:]))
        for conv, f in zip(ga.expand, feats))
    return outs, w


def test_sfm_rewrite_matches_plain_formulation_values_and_gradients():
    torch.manual_seed(0)
    sfm = SpatialFusionModule(IN_CH, mid_channels=8,
                              head_channels=(8, 16, 32, 64)).train()
    ga = sfm.global_attention
    torch.nn.init.normal_(ga.score_weight, std=1.0)
    torch.nn.init.normal_(ga.score_bias, std=1.0)
    feats = [f.requires_grad_() for f in _feats()]
    grad_outs = [torch.randn_like(f) for f in feats]

    def run(fn):
        outs, w = fn(ga, feats)
        loss = sum((o * g).sum() for o, g in zip(outs, grad_outs))
        loss = loss + (w * torch.arange(4.).view(1, 4, 1, 1)).sum()
        grads = torch.autograd.grad(loss, feats + list(ga.parameters()))
        return [o.detach() for o in outs], w.detach(), grads

    outs, w, grads = run(lambda m, f: m(f))
    ref_outs, ref_w, ref_grads = run(_reference_global_attention)
    assert torch.allclose(w, ref_w, atol=1e-5)
    for o, r in zip(outs, ref_outs):
        assert torch.allclose(o, r, atol=1e-5)
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, r, rtol=1e-4, atol=1e-5)


def test_weighted_upsampled_sum_is_bilinear_and_gradchecks():
    from mmpose_attn.models.necks.spatial_fusion import _WeightedUpsampledSum
    torch.manual_seed(0)
    w = torch.rand(2, 3, 12, 10, dtype=torch.double).softmax(1)
    feats = [
        torch.randn(2, 4, h, wd, dtype=torch.double)
        for h, wd in ((12, 10), (6, 5), (3, 4))
    ]
    out = _WeightedUpsampledSum.apply(w, *feats)
    ref = sum(w[:, n:n + 1] * torch.nn.functional.interpolate(
        f, size=(12, 10), mode='bilinear', align_corners=False)
              for n, f in enumerate(feats))
    assert torch.allclose(out, ref, atol=1e-12)
    inputs = [w.requires_grad_()] + [f.requires_grad_() for f in feats]
    assert torch.autograd.gradcheck(_WeightedUpsampledSum.apply, inputs)
