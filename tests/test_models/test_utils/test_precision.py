import torch

from mmpose_attn.models.utils import float32_under_autocast


@float32_under_autocast
def _softmax_and_dtype(x, extra=None):
    return x.softmax(-1), x.dtype, torch.is_autocast_enabled('cpu'), extra


def test_outside_autocast_the_function_is_untouched():
    x = torch.randn(2, 5, dtype=torch.float64)
    out, dtype, autocast_on, _ = _softmax_and_dtype(x)
    assert dtype == torch.float64 and not autocast_on
    torch.testing.assert_close(out, x.softmax(-1), rtol=0, atol=0)


def test_under_autocast_it_runs_in_float32_with_autocast_off():
    x = torch.randn(2, 4000) * 20
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = torch.nn.functional.linear(x, torch.eye(4000))  # bf16 under autocast
        assert low.dtype == torch.bfloat16
        out, dtype, autocast_on, extra = _softmax_and_dtype(
            low, extra=(low, {'a': low}))
    assert dtype == torch.float32 and not autocast_on
    assert out.dtype == torch.float32
    assert extra[0].dtype == torch.float32
    assert extra[1]['a'].dtype == torch.float32
    torch.testing.assert_close(out, low.float().softmax(-1))
    # autocast is back on after the island
    with torch.autocast('cpu', dtype=torch.bfloat16):
        _softmax_and_dtype(x)
        assert torch.is_autocast_enabled('cpu')
