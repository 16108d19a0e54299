"""The deformable convolution (SAMKR's adaptive convolution) on the device
against the CPU: output and the gradients of input, offsets and weight, in
float32 and under the device's autocast.

The gradients are taken with ``torch.autograd.grad`` with respect to fresh
leaf tensors on each device, never read from ``.grad`` (a tensor moved to
another device is not a leaf, and its ``.grad`` stays empty). A difference
that is not finite (``nan``, ``inf``) or a reference gradient that is all
zero fails the row.
"""
import math
from typing import Dict, Sequence, Tuple

import torch

# SAMKR's displacement branch: 17 keypoint groups of 16 channels.
SHAPE = dict(batch=2, groups=17, channels_per_group=16, size=32)
RTOL = 1e-4
QUANTITIES = ('output', 'grad_input', 'grad_offset', 'grad_weight')


def relative_differences(got: Sequence[torch.Tensor],
                         ref: Sequence[torch.Tensor]) -> Dict[str, float]:
    """``max |got - ref| / max |ref|`` of each of :data:`QUANTITIES`;
    ``nan`` where either holds a non-finite value or ``ref`` is all zero
    (nothing to compare with)."""
    diffs = {}
    for name, a, b in zip(QUANTITIES, got, ref):
        scale = float(b.abs().max())
        diff = float((a.float() - b.float()).abs().max())
        diffs[name] = diff / scale if scale > 0 and math.isfinite(
            scale) else math.nan
    return diffs


def row_ok(diffs: Dict[str, float], rtol: float = RTOL) -> bool:
    """Every difference finite and within ``rtol`` (``nan <= rtol`` is
    False, so a ``nan`` fails)."""
    return len(diffs) == len(QUANTITIES) and all(
        math.isfinite(d) and d <= rtol for d in diffs.values())


def autocast_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == 'cuda' else torch.bfloat16


def _inputs() -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    s = SHAPE
    channels = s['groups'] * s['channels_per_group']
    hw = (s['size'], s['size'])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(s['batch'], channels, *hw, generator=g)
    # up to +-6 px: fractional positions everywhere, some out of the image
    offset = 6 * (2 * torch.rand(s['batch'], s['groups'] * 18, *hw,
                                 generator=g) - 1)
    grad_out = torch.randn(s['batch'], channels, *hw, generator=g)
    return x, offset, grad_out


def run_deform_conv(device: torch.device, backend: str,
                    autocast: bool = False) -> tuple:
    """One forward and backward pass of a seeded ``DeformConv2d``.

    Returns:
        tuple: the kernel used, the output dtype, and the CPU float32
        copies of output, input, offset and weight gradients.
    """
    from mmpose_attn.models.utils.deform_conv import DeformConv2d
    channels = SHAPE['groups'] * SHAPE['channels_per_group']
    x, offset, grad_out = _inputs()
    torch.manual_seed(0)
    conv = DeformConv2d(channels, channels, 3, padding=1,
                        groups=SHAPE['groups'], deform_groups=SHAPE['groups'],
                        backend=backend).to(device)
    # fresh leaves on ``device``: the CPU tensors themselves stay untouched
    xi = x.to(device, copy=True).requires_grad_()
    oi = offset.to(device, copy=True).requires_grad_()
    with torch.autocast(device.type, enabled=autocast,
                        dtype=autocast_dtype(device)):
        out = conv(xi, oi)
    grads = torch.autograd.grad(out, (xi, oi, conv.weight),
                                grad_out.to(device, out.dtype))
    return conv.backend_for(xi), out.dtype, [
        t.detach().float().cpu() for t in (out, *grads)
    ]


def check_deform_conv(device: torch.device) -> dict:
    """The device's kernel (on the CPU: torchvision's) against the CPU's
    default one (mmcv's), in float32 and under autocast; see the module
    doc. The output must stay float32 under autocast."""
    ref_kernel, _, ref = run_deform_conv(torch.device('cpu'), 'auto')
    backend = 'torchvision' if device.type == 'cpu' else 'auto'
    rows = []
    for autocast in (False, True):
        kernel, dtype, got = run_deform_conv(device, backend, autocast)
        diffs = relative_differences(got, ref)
        rows.append(dict(autocast=autocast, kernel=kernel,
                         output_dtype=str(dtype), rel_diffs=diffs,
                         ok=row_ok(diffs) and dtype == torch.float32))
    return dict(device=str(device), cpu_kernel=ref_kernel, shape=dict(SHAPE),
                rtol=RTOL, rows=rows, ok=all(r['ok'] for r in rows))


def format_deform(d: dict) -> str:
    """The section's markdown."""
    s = d['shape']
    lines = [
        f"### Deformable convolution on {d['device']} vs CPU "
        f"({d['cpu_kernel']} kernel)", '',
        f"batch {s['batch']}, {s['groups']} groups x "
        f"{s['channels_per_group']} channels, {s['size']}x{s['size']}, "
        'offsets up to +-6 px; max |difference| / max |CPU value|, '
        f"tolerance {d['rtol']:g}.", '',
        '| autocast | kernel | output dtype | output | grad input | '
        'grad offset | grad weight | ok |',
        '| --- | --- | --- | --: | --: | --: | --: | :-: |'
    ]
    for r in d['rows']:
        diffs = ' | '.join(f'{v:.1e}' for v in r['rel_diffs'].values())
        lines.append(f"| {'yes' if r['autocast'] else 'no'} | {r['kernel']} "
                     f"| {r['output_dtype']} | {diffs} | "
                     f"{'yes' if r['ok'] else 'NO'} |")
    return '\n'.join(lines)
