import pytest
import torch
from mmcv.ops import DeformConv2d as MMCVDeformConv2d

from mmpose_attn.models.utils import DeformConv2d, mmcv_deform_conv_devices

# DEKR's adaptive convolution: 3x3, padding 1, one group per keypoint
CASES = [
    dict(in_channels=6, out_channels=4, groups=2, deform_groups=2),
    dict(in_channels=4, out_channels=6, groups=1, deform_groups=2,
         stride=2, dilation=2, padding=2),
]


def _pair(kwargs, seed=0, backend='torchvision'):
    torch.manual_seed(seed)
    kwargs = dict(dict(kernel_size=3, padding=1), **kwargs)
    ref = MMCVDeformConv2d(**kwargs)
    ours = DeformConv2d(**kwargs, backend=backend)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref, ours


def _inputs(conv, batch=2, size=(7, 9), seed=1):
    """Inputs and offsets: fractional everywhere (uniform in +-3 px), some
    taps pushed fully outside the image (+-20 px), some straddling the
    border (tap (1, 0) of output (0, 0) sampled at y = -0.5)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, conv.in_channels, *size, generator=gen)
    h_out = (size[0] + 2 * conv.padding[0] - conv.dilation[0] * 2 - 1) // \
        conv.stride[0] + 1
    w_out = (size[1] + 2 * conv.padding[1] - conv.dilation[1] * 2 - 1) // \
        conv.stride[1] + 1
    offset = torch.rand(batch, conv.deform_groups * 18, h_out, w_out,
                        generator=gen) * 6 - 3
    offset[:, 0:4, :2] = 20.  # far outside (bottom/right)
    offset[:, 4:6, :, :2] = -20.  # far outside (top/left)
    offset[:, 6, 0, 0] = -0.5  # half a pixel outside, still interpolated
    return x, offset


@pytest.mark.parametrize('backend', ['torchvision', 'grid_sample'])
@pytest.mark.parametrize('kwargs', CASES)
def test_forward_and_backward_equal_mmcv(kwargs, backend):
    ref, ours = _pair(kwargs, backend=backend)
    x, offset = _inputs(ref)
    grads = []
    outs = []
    for conv in (ref, ours):
        xi = x.clone().requires_grad_(True)
        oi = offset.clone().requires_grad_(True)
        out = conv(xi, oi)
        grad_out = torch.randn(out.shape,
                               generator=torch.Generator().manual_seed(2))
        out.backward(grad_out)
        outs.append(out.detach())
        grads.append((xi.grad, oi.grad, conv.weight.grad))
    # the offsets matter: a plain conv with the same weights differs
    plain = torch.nn.functional.conv2d(
        x, ref.weight, stride=ref.stride, padding=ref.padding,
        dilation=ref.dilation, groups=ref.groups)
    assert (plain - outs[0]).abs().max() > 0.1
    torch.testing.assert_close(outs[1], outs[0], rtol=1e-5, atol=1e-5)
    for name, a, b in zip(('input', 'offset', 'weight'), grads[1], grads[0]):
        assert b.abs().max() > 0, name
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, msg=name)


def test_same_parameters_as_mmcv():
    ref, ours = _pair(CASES[0])
    assert isinstance(ours, MMCVDeformConv2d)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in ref.state_dict().items()} == \
        {'weight': (4, 3, 3, 3)}


def test_auto_uses_mmcv_where_compiled_and_torchvision_elsewhere():
    conv = DeformConv2d(4, 4, 3, padding=1)
    assert 'cpu' in mmcv_deform_conv_devices()
    assert conv.backend_for(torch.zeros(1)) == 'mmcv'
    # a device mmcv was not compiled for (the meta device here; CUDA with
    # this project's CPU-only mmcv build) goes to torchvision
    assert conv.backend_for(torch.zeros(1, device='meta')) == 'torchvision'
    forced = DeformConv2d(4, 4, 3, padding=1, backend='torchvision')
    assert forced.backend_for(torch.zeros(1)) == 'torchvision'
    with pytest.raises(ValueError, match='backend'):
        DeformConv2d(4, 4, 3, backend='cuda')


@pytest.mark.parametrize('backend', ['torchvision', 'mmcv', 'grid_sample'])
def test_every_path_is_float32_under_bfloat16_autocast(backend):
    # neither kernel has a bfloat16 CPU implementation
    ref, ours = _pair(CASES[0], backend=backend)
    x, offset = _inputs(ref)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        # under autocast the input and offsets come out of convs in bfloat16
        out = ours(x.bfloat16(), offset.bfloat16())
    assert out.dtype == torch.float32
    expected = ref(x.bfloat16().float(), offset.bfloat16().float())
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
