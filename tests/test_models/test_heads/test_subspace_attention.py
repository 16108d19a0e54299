import pytest
import torch
import torch.nn.functional as F

from mmpose_attn.models.heads.subspace_attention import SubspaceAttention


def _randomize(sam: SubspaceAttention, seed: int = 0) -> SubspaceAttention:
    """Random weights and BN statistics, so every parameter matters."""
    gen = torch.Generator().manual_seed(seed)
    for tensor in list(sam.parameters()) + list(sam.buffers()):
        if tensor.dtype.is_floating_point:
            tensor.data.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
    return sam


def _slow_reference(sam: SubspaceAttention, x: torch.Tensor) -> torch.Tensor:
    """Eq. (9) subspace by subspace, as ULSAM's per-subspace module:
    DW 1x1 -> BN -> ReLU -> maxpool 3x3 -> PW (s -> 1) -> BN -> ReLU ->
    softmax over positions -> f * A + f, then concatenation (Eq. 5-6)."""
    dw, pw = sam.depthwise_conv, sam.pointwise_conv
    s = sam.subspace_channels
    B, _, H, W = x.shape
    outs = []
    for branch in range(sam.num_branches):
        for j in range(sam.num_subspaces):
            n = branch * sam.num_subspaces + j
            ch = slice(n * s, (n + 1) * s)
            f = x[:, ch]
            y = f * dw.conv.weight[ch].view(1, s, 1, 1)
            y = F.batch_norm(y, dw.bn.running_mean[ch], dw.bn.running_var[ch],
                             dw.bn.weight[ch], dw.bn.bias[ch], False, 0.,
                             dw.bn.eps).relu()
            y = F.max_pool2d(y, 3, stride=1, padding=1)
            a = (y * pw.conv.weight[n].view(1, s, 1, 1)).sum(1, keepdim=True)
            a = F.batch_norm(a, pw.bn.running_mean[n:n + 1],
                             pw.bn.running_var[n:n + 1], pw.bn.weight[n:n + 1],
                             pw.bn.bias[n:n + 1], False, 0., pw.bn.eps).relu()
            a = torch.softmax(a.view(B, 1, H * W), dim=-1).view(B, 1, H, W)
            outs.append(a * f + f)
    return torch.cat(outs, dim=1)


@pytest.mark.parametrize('branches,g,s', [(17, 8, 2), (3, 1, 4), (2, 4, 1),
                                          (1, 8, 3)])
def test_matches_slow_per_subspace_reference(branches, g, s):
    sam = _randomize(SubspaceAttention(branches * g * s, g, branches)).eval()
    x = torch.randn(2, branches * g * s, 7, 9,
                    generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        fast = sam(x)
        slow = _slow_reference(sam, x)
    assert fast.shape == x.shape
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
    # the attention is not a no-op on these inputs
    assert (fast - x).abs().max() > 1e-3


def test_softmax_normalised_over_positions():
    sam = _randomize(SubspaceAttention(4 * 3 * 2, 3, 4)).eval()
    x = torch.randn(2, 24, 5, 6)
    with torch.no_grad():
        attn = sam.attention_maps(x)
    assert attn.shape == (2, 4, 3, 5, 6)
    assert (attn >= 0).all()
    torch.testing.assert_close(attn.sum(dim=(-2, -1)), torch.ones(2, 4, 3))
    # over positions, not over subspaces or channels
    assert not torch.allclose(attn.sum(dim=2), torch.ones(2, 4, 5, 6))


def test_eq9_by_hand_without_norm_and_activation():
    """Eq. (9) literally: with constant logits the softmax is uniform,
    1/(H*W), so O = f * (1 + 1/(H*W))."""
    sam = SubspaceAttention(8, 2, 2, norm_cfg=None, act_cfg=None)
    for conv in (sam.depthwise_conv.conv, sam.pointwise_conv.conv):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.constant_(conv.bias, 0.3)
    x = torch.arange(8 * 2 * 2, dtype=torch.float32).view(1, 8, 2, 2)
    torch.testing.assert_close(sam(x), x * 1.25)

    # a spike: logits are 1 where the 3x3 max-pool spreads it, 0 elsewhere
    torch.nn.init.zeros_(sam.pointwise_conv.conv.bias)
    torch.nn.init.ones_(sam.depthwise_conv.conv.weight)
    torch.nn.init.zeros_(sam.depthwise_conv.conv.bias)
    torch.nn.init.ones_(sam.pointwise_conv.conv.weight)
    x = torch.zeros(1, 8, 3, 3)
    x[0, 0, 0, 0] = 2.  # subspace 0 of branch 0 only
    out = sam(x)
    attn = sam.attention_maps(x)
    e = torch.exp(torch.tensor(2.))
    # max-pool covers rows/cols 0..1 around the spike: 4 positions of 9
    torch.testing.assert_close(attn[0, 0, 0, 0, 0], e / (4 * e + 5))
    torch.testing.assert_close(attn[0, 0, 0, 2, 2], 1 / (4 * e + 5))
    torch.testing.assert_close(out[0, 0, 0, 0], 2 * (1 + e / (4 * e + 5)))
    expected = torch.zeros(1, 8, 3, 3)
    expected[0, 0, 0, 0] = out[0, 0, 0, 0]
    torch.testing.assert_close(out, expected)


def test_grouped_layers_and_parameter_count():
    # the paper's 8_SAMKR_16 for COCO: m = 17 x 16 = 272, g = 8, s = 2
    sam = SubspaceAttention(272, 8, 17)
    assert sam.subspace_channels == 2
    assert sam.depthwise_conv.conv.groups == 272
    assert sam.pointwise_conv.conv.groups == 17 * 8
    assert sam.pointwise_conv.conv.out_channels == 17 * 8
    # DW 272 + BN 2*272 + PW 136 maps x 2 inputs + BN 2*136 (convs bias-free
    # before BN)
    assert sum(p.numel() for p in sam.parameters()) == \
        272 + 2 * 272 + 136 * 2 + 2 * 136


def test_gradients_flow_in_training_mode():
    sam = SubspaceAttention(16, 4, 2).train()
    x = torch.randn(2, 16, 6, 6, requires_grad=True)
    sam(x).square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert sam.pointwise_conv.conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('channels,g,branches', [(10, 3, 1), (16, 8, 3),
                                                 (16, 0, 1)])
def test_bad_split_is_a_clear_error(channels, g, branches):
    with pytest.raises(ValueError, match='split evenly'):
        SubspaceAttention(channels, g, branches)


def test_softmax_in_float32_under_bfloat16_autocast():
    """Under autocast the convs run in bfloat16 but the softmax over the
    H*W positions and f * (1 + A) stay float32: every map sums to 1 and the
    ~1/(H*W) attention still changes the features (in bfloat16 1 + A would
    round to 1)."""
    sam = _randomize(SubspaceAttention(16, 4, 2)).eval()
    x = torch.randn(2, 16, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        logits = sam.pointwise_conv(sam.maxpool(sam.depthwise_conv(x)))
        attn = sam.attention_maps(x)
        out = sam(x)
    assert logits.dtype == torch.bfloat16
    assert attn.dtype == out.dtype == torch.float32
    expected = logits.float().flatten(2).softmax(-1).view_as(attn)
    torch.testing.assert_close(attn, expected, rtol=0, atol=0)
    torch.testing.assert_close(
        attn.sum(dim=(-2, -1)), torch.ones(2, 2, 4), rtol=0, atol=1e-6)
    bf16_one_plus_a = (attn.bfloat16() + 1)
    assert (bf16_one_plus_a == 1).float().mean() > 0.9  # what float32 avoids
    torch.testing.assert_close(
        out.view(2, 8, 2, 32, 32),
        x.view(2, 8, 2, 32, 32) * (attn.view(2, 8, 1, 32, 32) + 1))
    assert (out != x).float().mean() > 0.9
