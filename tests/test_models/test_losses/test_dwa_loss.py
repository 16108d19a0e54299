import math

import pytest
import torch
from mmengine.runner.checkpoint import (load_checkpoint, save_checkpoint,
                                        weights_to_cpu)
from mmpose.registry import MODELS
from torch import nn

# Two MSE tasks: a constant prediction x against a zero target gives x**2.
CFG = dict(
    type='DWALoss',
    losses=dict(
        kpt=dict(type='KeypointMSELoss'),
        seg=dict(type='KeypointMSELoss', loss_weight=0.5)))
ZERO = torch.zeros(1, 1, 2, 2)


def _inputs(kpt, seg):
    """Task inputs whose losses are exactly ``kpt`` and ``0.5 * seg``."""
    return dict(
        kpt=(torch.full_like(ZERO, math.sqrt(kpt)), ZERO),
        seg=(torch.full_like(ZERO, math.sqrt(seg)), ZERO))


def _dwa(prev, prev2, n=2, t=1.):
    """Eq. 8-10 by hand: w_n = N exp(r_n / T) / sum_m exp(r_m / T)."""
    r = [a / b for a, b in zip(prev, prev2)]
    e = [math.exp(x / t) for x in r]
    return [n * x / sum(e) for x in e]


# losses per step: (L_kpt, L_seg after its 0.5 weight)
STEPS = [(4., 1.), (1., .81), (.25, .64), (.2, .6)]


def _step(loss, i):
    kpt, seg = STEPS[i]
    return loss(_inputs(kpt, seg / .5))


def test_three_iterations_by_hand():
    loss = MODELS.build(CFG).train()
    out1 = _step(loss, 0)
    out2 = _step(loss, 1)
    out3 = _step(loss, 2)
    # no history yet: weight 1 for steps 1 and 2 (Liu et al.)
    for out, (kpt, seg) in [(out1, STEPS[0]), (out2, STEPS[1])]:
        assert out['dwa_weight_kpt'].item() == 1.
        assert out['dwa_weight_seg'].item() == 1.
        assert out['loss_kpt'].item() == pytest.approx(kpt)
        assert out['loss_seg'].item() == pytest.approx(seg)
    # step 3: r_kpt = 1 / 4, r_seg = 0.81 / 1
    w_kpt, w_seg = _dwa(STEPS[1], STEPS[0])
    assert (w_kpt, w_seg) == pytest.approx(
        (2 * math.exp(.25) / (math.exp(.25) + math.exp(.81)),
         2 * math.exp(.81) / (math.exp(.25) + math.exp(.81))))
    assert out3['dwa_weight_kpt'].item() == pytest.approx(w_kpt)
    assert out3['dwa_weight_seg'].item() == pytest.approx(w_seg)
    assert out3['loss_kpt'].item() == pytest.approx(w_kpt * .25)
    assert out3['loss_seg'].item() == pytest.approx(w_seg * .64)
    assert w_kpt + w_seg == pytest.approx(2.)
    # the slower task (seg) gets the larger weight
    assert w_seg > 1. > w_kpt


def test_gradient_flows_through_weighted_losses_only():
    loss = MODELS.build(CFG).train()
    for i in range(2):
        _step(loss, i)
    x = torch.full_like(ZERO, .5, requires_grad=True)
    out = loss(dict(kpt=(x, ZERO), seg=(torch.full_like(ZERO, .8), ZERO)))
    out['loss_kpt'].backward()
    w = out['dwa_weight_kpt'].item()
    # d/dx mean((x)^2) = 2x / numel, times the (constant) DWA weight
    torch.testing.assert_close(x.grad, torch.full_like(ZERO, w * 2 * .5 / 4))


def test_eval_mode_and_temperature():
    loss = MODELS.build(CFG).train()
    for i in range(3):
        _step(loss, i)
    history = loss.loss_history.clone()
    loss.eval()
    _step(loss, 3)
    torch.testing.assert_close(loss.loss_history, history)
    assert loss.num_steps.item() == 3

    hot = MODELS.build(dict(CFG, temperature=2.)).train()
    for i in range(3):
        out = _step(hot, i)
    w = _dwa(STEPS[1], STEPS[0], t=2.)
    assert out['dwa_weight_kpt'].item() == pytest.approx(w[0])


def test_float32_under_bfloat16_autocast():
    """Mixed precision: bfloat16 task inputs under autocast give float32
    losses and weights, equal to float32 on the same (upcast) inputs."""
    ref, amp = MODELS.build(CFG).train(), MODELS.build(CFG).train()
    for i in range(len(STEPS)):
        inputs = {
            k: tuple(t.bfloat16() for t in v)
            for k, v in _inputs(STEPS[i][0], STEPS[i][1] / .5).items()
        }
        expected = ref({k: tuple(t.float() for t in v)
                        for k, v in inputs.items()})
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = amp(inputs)
        for k, v in expected.items():
            assert out[k].dtype == torch.float32 and torch.isfinite(out[k])
            assert torch.equal(out[k], v), k
    assert out['dwa_weight_kpt'] != 1.
    assert amp.loss_history.dtype == torch.float32


class _Model(nn.Module):
    """A model holding the loss, as a head does."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        self.loss_module = MODELS.build(CFG)


def test_resume_from_checkpoint_continues_weights(tmp_path):
    model = _Model().train()
    for i in range(3):
        _step(model.loss_module, i)
    assert {'loss_module.loss_history', 'loss_module.num_steps'} <= set(
        model.state_dict())
    ckpt = str(tmp_path / 'iter_3.pth')
    save_checkpoint({'state_dict': weights_to_cpu(model.state_dict())}, ckpt)

    resumed = _Model().train()
    fresh = _Model().train()
    load_checkpoint(resumed, ckpt, map_location='cpu', strict=True)
    out_cont = _step(model.loss_module, 3)
    out_res = _step(resumed.loss_module, 3)
    out_fresh = _step(fresh.loss_module, 3)

    w = _dwa(STEPS[2], STEPS[1])  # r = L(3) / L(2)
    for name, wi in zip(('kpt', 'seg'), w):
        assert out_res[f'dwa_weight_{name}'].item() == pytest.approx(wi)
        assert out_res[f'dwa_weight_{name}'].item() == \
            out_cont[f'dwa_weight_{name}'].item()
        assert out_fresh[f'dwa_weight_{name}'].item() == 1.
    torch.testing.assert_close(resumed.loss_module.loss_history,
                               model.loss_module.loss_history)


def test_bad_config():
    with pytest.raises(ValueError, match='at least two'):
        MODELS.build(dict(type='DWALoss', losses=dict(a=dict(
            type='KeypointMSELoss'))))
    loss = MODELS.build(CFG)
    with pytest.raises(KeyError, match='expected'):
        loss(dict(kpt=(ZERO, ZERO)))
