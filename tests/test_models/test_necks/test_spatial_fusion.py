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
                              head_channels=(8, 16, 32, 64))
    (y, ) = sfm(_feats())
    assert y.shape == (2, 64, 2, 2)
    y.mean().backward()
    assert all(p.grad is not None for p in sfm.parameters())


def test_sfm_rejects_bad_input():
    sfm = SpatialFusionModule(IN_CH, mid_channels=8,
                              head_channels=(8, 16, 32, 64))
    with pytest.raises(ValueError, match='expects 4 features'):
        sfm(_feats()[:3])
    with pytest.raises(ValueError, match='same length'):
        SpatialFusionModule((4, 8), head_channels=(8, 16, 32))
