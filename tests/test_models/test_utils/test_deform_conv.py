import io

import numpy as np
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
    """Inputs and offsets: fractional (uniform in +-3 px) for most taps,
    integer offsets (-2..2, zero included) for taps 5-8 of the first
    deformable group, where bilinear sampling must read single pixels (a
    kernel that mis-rounds integer positions or reads the wrong neighbour
    there differs); some taps pushed fully outside the image (+-20 px),
    some straddling the border (tap (1, 0) of output (0, 0) sampled at
    y = -0.5)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, conv.in_channels, *size, generator=gen)
    h_out = (size[0] + 2 * conv.padding[0] - conv.dilation[0] * 2 - 1) // \
        conv.stride[0] + 1
    w_out = (size[1] + 2 * conv.padding[1] - conv.dilation[1] * 2 - 1) // \
        conv.stride[1] + 1
    offset = torch.rand(batch, conv.deform_groups * 18, h_out, w_out,
                        generator=gen) * 6 - 3
    offset[:, 10:18] = torch.randint(-2, 3, offset[:, 10:18].shape,
                                     generator=gen).float()
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
    # Offsets at integer positions (channels 10-17) sample where bilinear
    # interpolation has no derivative; the kernels return different
    # one-sided ones there (test_offset_gradient_at_integer_positions), so
    # the offset gradient is compared at the fractional taps only.
    fractional = torch.ones(offset.shape[1], dtype=torch.bool)
    fractional[10:18] = False
    grads = [(gi, go[:, fractional], gw) for gi, go, gw in grads]
    for name, a, b in zip(('input', 'offset', 'weight'), grads[1], grads[0]):
        assert b.abs().max() > 0, name
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, msg=name)


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'grid_sample'])
def test_offset_gradient_at_integer_positions(backend):
    """Where the kernels differ: the offset gradient at an integer sampling
    position, where bilinear interpolation is not differentiable. On the
    image v(y, x) = 10 (y + 1)^2 + (x + 1)^2 (7 x 6), a 1x1 tap moved to
    (2, 3) takes the derivative towards +y / +x in every backend
    (v(3, 3) - v(2, 3) = 70, v(2, 4) - v(2, 3) = 9); at row -1 (outside,
    value 0) mmcv returns 0 and torchvision / grid_sample the derivative
    into the image (v(0, 3) = 26); at column 0 grid_sample's normalised
    coordinates land a rounding error left of the pixel and give the
    derivative from outside (v(2, 0) - 0 = 91), mmcv and torchvision the
    one into the image (3). The values agree everywhere."""
    conv = DeformConv2d(1, 1, 1, bias=False, backend=backend)
    with torch.no_grad():
        conv.weight.fill_(1.)
    yy, xx = torch.meshgrid(
        torch.arange(6.), torch.arange(7.), indexing='ij')
    x = (10 * (yy + 1)**2 + (xx + 1)**2)[None, None]
    expected = {  # (y, x) -> (value, d/dy, d/dx) per backend
        (2., 3.): dict(mmcv=(106., 70., 9.), torchvision=(106., 70., 9.),
                       grid_sample=(106., 70., 9.)),
        (-1., 3.): dict(mmcv=(0., 0., 0.), torchvision=(0., 26., 0.),
                        grid_sample=(0., 26., 0.)),
        (2., 0.): dict(mmcv=(91., 70., 3.), torchvision=(91., 70., 3.),
                       grid_sample=(91., 70., 91.)),
    }
    for (py, px), per_backend in expected.items():
        offset = torch.zeros(1, 2, 6, 7)
        offset[0, :, 0, 0] = torch.tensor([py, px])
        offset.requires_grad_(True)
        out = conv(x, offset)
        out[0, 0, 0, 0].backward()
        got = (out[0, 0, 0, 0].item(), *offset.grad[0, :, 0, 0].tolist())
        assert got == pytest.approx(per_backend[backend], abs=1e-4), (py, px)


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



# -- every backend (ONNX Runtime's DeformConv and the GridSample export
# included) against a slow float64 reference: Dai et al. 2017, Eq. 2 with
# mmcv's bilinear sampling (a position p reads pixel q with weight
# max(0, 1 - |p_y - q_y|) * max(0, 1 - |p_x - q_x|); pixels outside the
# image are 0).
def _reference(conv, x, offset):
    x, offset, weight = (t.detach().double().numpy()
                         for t in (x, offset, conv.weight))
    b, c, h, w = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    h_out, w_out = offset.shape[-2:]
    taps = kh * kw
    per_deform_group = c // conv.deform_groups
    oy = np.arange(h_out)[:, None] * conv.stride[0] - conv.padding[0]
    ox = np.arange(w_out)[None, :] * conv.stride[1] - conv.padding[1]
    columns = np.zeros((b, c, taps, h_out, w_out))
    for ch in range(c):
        dg = ch // per_deform_group
        for k in range(taps):
            py = oy + (k // kw) * conv.dilation[0] + \
                offset[:, dg * 2 * taps + 2 * k]
            px = ox + (k % kw) * conv.dilation[1] + \
                offset[:, dg * 2 * taps + 2 * k + 1]
            for qy in (np.floor(py), np.floor(py) + 1):
                for qx in (np.floor(px), np.floor(px) + 1):
                    wt = np.clip(1 - abs(py - qy), 0, None) * \
                        np.clip(1 - abs(px - qx), 0, None)
                    inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
                    pix = x[np.arange(b)[:, None, None], ch,
                            np.clip(qy, 0, h - 1).astype(int),
                            np.clip(qx, 0, w - 1).astype(int)]
                    columns[:, ch, k] += np.where(inside, wt * pix, 0)
    out = np.zeros((b, c_out, h_out, w_out))
    per_group_out = c_out // conv.groups
    for o in range(c_out):
        g = o // per_group_out
        cols = columns[:, g * c_per_group:(g + 1) * c_per_group]
        out[:, o] = np.einsum('ck,bckhw->bhw', weight[o].reshape(
            c_per_group, taps), cols)
    return torch.from_numpy(out).float()


def _onnx_runtime(conv, x, offset, onnx_op):
    """``conv`` exported alone (opset 19) and run by ONNX Runtime."""
    import onnx
    import onnxruntime as ort

    class Net(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = conv

        def forward(self, x, offset):
            return self.conv(x, offset)

    conv.onnx_op = onnx_op
    f = io.BytesIO()
    torch.onnx.export(Net(), (x, offset), f, dynamo=False, opset_version=19,
                      input_names=['x', 'offset'])
    model = onnx.load_from_string(f.getvalue())
    ops = {n.op_type for n in model.graph.node}
    assert ('DeformConv' in ops) == (onnx_op == 'DeformConv'), ops
    assert all(n.domain in ('', 'ai.onnx') for n in model.graph.node)
    session = ort.InferenceSession(
        f.getvalue(), providers=['CPUExecutionProvider'])
    return torch.from_numpy(
        session.run(None, dict(x=x.numpy(), offset=offset.numpy()))[0])


BACKEND_RUNS = {
    'mmcv': lambda conv, x, o: MMCVDeformConv2d.forward(conv, x, o),
    'torchvision': lambda conv, x, o: _with_backend(conv, 'torchvision', x,
                                                    o),
    'grid_sample': lambda conv, x, o: _with_backend(conv, 'grid_sample', x,
                                                    o),
    'onnxruntime-DeformConv': lambda conv, x, o: _onnx_runtime(
        conv, x, o, 'DeformConv'),
    'onnxruntime-GridSample': lambda conv, x, o: _onnx_runtime(
        conv, x, o, 'GridSample'),
}


def _with_backend(conv, backend, x, offset):
    conv.backend = backend
    with torch.no_grad():
        return conv(x, offset)


def _offsets(conv, x, kind, seed=3):
    """Offsets of one kind for input ``x``:

    - ``zero``: the deformable conv is a plain conv (padding taps read 0);
    - ``integer``: every tap moved by -2..2 px, so each reads one pixel;
    - ``fractional``: every tap moved by up to +-3 px, at least 0.1 px off
      the pixel grid in y and in x, so each reads four pixels;
    - ``border``: integer positions on and just past the image edge: taps
      sent to row -1, row H, column -1 or column W (outside: 0), to the
      bottom-left pixel, and half a pixel past the edge (y = -0.5: half of
      row 0); the other taps moved by -1..1 px.
    """
    b, _, h, w = x.shape
    h_out = (h + 2 * conv.padding[0] - conv.dilation[0] * 2 - 1) // \
        conv.stride[0] + 1
    w_out = (w + 2 * conv.padding[1] - conv.dilation[1] * 2 - 1) // \
        conv.stride[1] + 1
    shape = (b, conv.deform_groups * 18, h_out, w_out)
    if kind == 'zero':
        return torch.zeros(shape)
    gen = torch.Generator().manual_seed(seed)
    if kind == 'integer':
        return torch.randint(-2, 3, shape, generator=gen).float()
    if kind == 'fractional':
        return torch.randint(-3, 3, shape, generator=gen) + 0.1 + 0.8 * \
            torch.rand(shape, generator=gen)
    # border: taps 0-4 of every output sent to absolute positions
    oy = torch.arange(h_out).view(-1, 1) * conv.stride[0] - conv.padding[0]
    ox = torch.arange(w_out).view(1, -1) * conv.stride[1] - conv.padding[1]
    offset = torch.randint(-1, 2, shape, generator=gen).float()
    targets = [(-1., w - 1.),  # row -1: outside, 0
               (h - 1., 0.),  # bottom-left pixel
               (-0.5, 1.),  # half of pixel (0, 1)
               (0., float(w)),  # column W: outside, 0
               (float(h), -1.)]  # outside, 0
    for dg in range(conv.deform_groups):
        for k, (ty, tx) in enumerate(targets):
            ky, kx = divmod(k, 3)
            offset[:, dg * 18 + 2 * k] = ty - oy - ky * conv.dilation[0]
            offset[:, dg * 18 + 2 * k + 1] = tx - ox - kx * conv.dilation[1]
    return offset


@pytest.mark.parametrize('kind', ['zero', 'integer', 'fractional', 'border'])
@pytest.mark.parametrize('kwargs', CASES)
def test_backends_equal_slow_reference(kwargs, kind):
    ref, conv = _pair(kwargs)
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(2, conv.in_channels, 7, 9, generator=gen)
    offset = _offsets(conv, x, kind)
    expected = _reference(conv, x, offset)
    if kind == 'zero':  # a plain convolution, padding taps reading zeros
        plain = torch.nn.functional.conv2d(
            x, conv.weight, stride=conv.stride, padding=conv.padding,
            dilation=conv.dilation, groups=conv.groups)
        torch.testing.assert_close(expected, plain, rtol=1e-5, atol=1e-5)
    else:  # the offsets matter
        assert (expected - _reference(conv, x, 0 * offset)).abs().max() > .1
    for name, run in BACKEND_RUNS.items():
        torch.testing.assert_close(
            run(conv, x, offset), expected, rtol=1e-5, atol=1e-5, msg=name)


def _padded_and_shifted(x, shifts, padding):
    """``x`` zero-padded by ``padding`` and, for the channels of deformable
    group g, moved by the integer ``shifts[g] = (dy, dx)``: pixel (y, x) of
    the result is pixel (y - pad_y + dy, x - pad_x + dx) of ``x``, zero
    outside the image."""
    (py, px), margin = padding, 8
    big = torch.nn.functional.pad(x, (margin, ) * 4)
    h, w = x.shape[-2] + 2 * py, x.shape[-1] + 2 * px
    per_group = x.shape[1] // len(shifts)
    return torch.cat([
        big[:, g * per_group:(g + 1) * per_group,
            margin - py + dy:margin - py + dy + h,
            margin - px + dx:margin - px + dx + w]
        for g, (dy, dx) in enumerate(shifts)
    ], dim=1)


@pytest.mark.parametrize('backend', ['mmcv', 'torchvision', 'grid_sample'])
@pytest.mark.parametrize('kwargs', CASES)
def test_integer_offsets_are_a_plain_conv_of_the_shifted_input(
        kwargs, backend):
    """Every tap of deformable group g moved by the same integer (dy, dx)
    reads the zero-padded input shifted by (dy, dx): a plain convolution
    of that shifted input, to float rounding (no interpolation happens). A
    kernel that swaps y and x, rounds the wrong way or reads a neighbour
    differs by whole pixel values."""
    _, conv = _pair(kwargs, backend=backend)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, conv.in_channels, 7, 9, generator=gen)
    shifts = [(1, -2), (-2, 1)][:conv.deform_groups]
    offset = torch.zeros_like(_offsets(conv, x, 'zero'))
    for g, (dy, dx) in enumerate(shifts):
        offset[:, g * 18:(g + 1) * 18:2] = dy
        offset[:, g * 18 + 1:(g + 1) * 18:2] = dx

    def plain(shifts):
        return torch.nn.functional.conv2d(
            _padded_and_shifted(x, shifts, conv.padding), conv.weight,
            stride=conv.stride, dilation=conv.dilation, groups=conv.groups)

    expected = plain(shifts)
    assert (expected - plain([(0, 0)] * len(shifts))).abs().max() > 1
    with torch.no_grad():
        out = conv(x, offset)
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-5)
