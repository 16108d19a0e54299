import math

import pytest
import torch

from mmpose.registry import MODELS


def _loss(**kwargs):
    return MODELS.build(dict(type='WeightAdaptiveHeatmapLoss', **kwargs))


P = torch.tensor([0.5, 0.2, 0.9]).view(1, 1, 1, 3)
H = torch.tensor([1.0, 0.0, 0.5]).view(1, 1, 1, 3)


def test_hand_computed_default_gamma():
    # W = H^g |1 - P| + (1 - H^g) |P|, loss = mean(W (P - H)^2)
    h3 = 0.5**0.01
    per_pixel = [
        1.0 * 0.5 * 0.5**2,  # H = 1: W = |1 - P|
        0.2 * 0.2**2,  # H = 0: W = |P|
        (h3 * 0.1 + (1 - h3) * 0.9) * 0.4**2,
    ]
    expected = sum(per_pixel) / 3
    assert math.isclose(expected, 0.0499613, rel_tol=1e-5)
    torch.testing.assert_close(_loss()(P, H), torch.tensor(expected))


def test_hand_computed_gamma_one_weights_and_mask():
    loss = _loss(gamma=1.0, use_target_weight=True, loss_weight=2.0)
    output = torch.cat([P, P], dim=1)  # (1, 2, 1, 3)
    target = torch.cat([H, H], dim=1)
    # keypoint 1 weighted out; pixel 2 masked out; mean over all 6 elements
    target_weights = torch.tensor([[1.0, 0.0]])
    mask = torch.tensor([1.0, 1.0, 0.0]).view(1, 1, 1, 3)
    per_pixel = [0.5 * 0.25, 0.2 * 0.04, 0.0]
    expected = 2.0 * sum(per_pixel) / 6
    torch.testing.assert_close(
        loss(output, target, target_weights, mask), torch.tensor(expected))
    # pixel-wise target weights as DEKR's SPR targets give them
    pixel_weights = torch.zeros(1, 2, 1, 3)
    pixel_weights[0, 0, 0, 2] = 3.0
    torch.testing.assert_close(
        loss(output, target, pixel_weights),
        torch.tensor(2.0 * 3.0 * 0.5 * 0.16 / 6))


def test_weight_is_not_detached():
    output = P.clone().requires_grad_(True)
    _loss(gamma=1.0)(output, H).backward()
    # d/dP [W (P-H)^2] with W = H (1-P) + (1-H) P, at the 3 pixels, / 3
    grads = []
    for p, h in zip(P.flatten().tolist(), H.flatten().tolist()):
        w = h * abs(1 - p) + (1 - h) * abs(p)
        dw = -h * math.copysign(1, 1 - p) + (1 - h) * math.copysign(1, p)
        grads.append((dw * (p - h)**2 + w * 2 * (p - h)) / 3)
    torch.testing.assert_close(output.grad.flatten(), torch.tensor(grads))


def test_perfect_prediction_is_zero_and_bad_gamma():
    assert _loss()(H, H).item() == 0.0
    with pytest.raises(ValueError, match='gamma'):
        _loss(gamma=0.0)


def test_float32_under_bfloat16_autocast():
    """Under autocast the head's heatmaps arrive in bfloat16; the loss is
    computed in float32 on them, exactly as outside autocast on their
    float32 values."""
    gen = torch.Generator().manual_seed(0)
    output = torch.rand(2, 3, 8, 8, generator=gen).bfloat16()
    target = torch.rand(2, 3, 8, 8, generator=gen)
    weights = torch.rand(2, 3, 8, 8, generator=gen)
    loss = _loss(use_target_weight=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        amp = loss(output, target, weights)
    assert amp.dtype == torch.float32
    torch.testing.assert_close(
        amp, loss(output.float(), target, weights), rtol=0, atol=0)
