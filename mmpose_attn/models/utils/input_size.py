"""Input sizes a backbone can process: each side a multiple of its total
downsampling, so every halving is exact and the output keeps the scale the
codec assumes.

A size that is not a multiple fails in one of two ways: a halving rounds
(7x7/2 conv and max-pooling) and the upsampled decoder branch no longer
matches its skip branch (the hourglass at 72x72: ``size of tensor a (9)
must match ... (8)``), or every rounding happens to fit and the output has
another scale than ``input_size / heatmap_size`` (the hourglass at 65x63
trains on shifted targets without a word). :func:`check_input_size` turns
both into an error that names the setting and the nearest valid sizes;
:class:`~mmpose_attn.engine.hooks.DataCheckHook` applies it to the model's
codec and every pipeline's ``input_size`` when the runner starts.

Rules (:data:`INPUT_SIZE_RULES`, first match by ``isinstance``):

* :class:`DilatedHourglassNet`, :class:`RFMHourglassNet` (ours): stem /4
  (7x7/2 conv, 2x2 max-pool), then ``num_downsamples`` 2x poolings:
  multiple of ``4 * 2**num_downsamples`` (SPCNet's DHM: 16; SADI-Net's
  classic hourglass: 64).
* MMPose's ``HourglassNet``: stem /4, then ``downsample_times`` stride-2
  levels per module: ``4 * 2**downsample_times`` (128 by default).
* MMPose's ``HRNet`` (and :class:`SGHRNet`): stem /4, one more halving per
  extra branch, fused by 2x upsampling: ``4 * 2**(branches - 1)`` (32).
* MMPose's ``ResNet``: 7x7/2 conv, max-pool and the stages' strides up to
  the last output: ``4 * prod(strides)`` (32).
"""
from typing import Callable, List, Optional, Sequence, Tuple

from torch import nn


def _hourglass_ours(backbone) -> Tuple[int, str]:
    n = backbone.num_downsamples
    return 4 * 2**n, (f'a stem of /4 and {n} 2x poolings per hourglass '
                      '(num_downsamples)')


def _hourglass_mmpose(backbone) -> Tuple[int, str]:
    n = backbone.hourglass_modules[0].depth
    return 4 * 2**n, (f'a stem of /4 and {n} stride-2 levels per hourglass '
                      '(downsample_times)')


def _hrnet(backbone) -> Tuple[int, str]:
    extra = backbone.extra
    branches = max(
        extra[k].get('num_branches', 1) for k in extra
        if k.startswith('stage') and isinstance(extra[k], dict))
    return 4 * 2**(branches - 1), (
        f'a stem of /4 and {branches} branches, each at half the '
        'resolution of the last, fused by 2x upsampling')


def _resnet(backbone) -> Tuple[int, str]:
    last = max(backbone.out_indices)
    factor = 1
    for s in backbone.strides[:last + 1]:
        factor *= s
    return 4 * factor, (f'a stem of /4 (7x7/2 conv, max-pool) and stage '
                        f'strides {tuple(backbone.strides[:last + 1])}')


def _rules() -> List[Tuple[type, Callable]]:
    from mmpose.models.backbones import HourglassNet, HRNet, ResNet

    from mmpose_attn.models.backbones import DilatedHourglassNet
    return [(DilatedHourglassNet, _hourglass_ours),
            (HourglassNet, _hourglass_mmpose), (HRNet, _hrnet),
            (ResNet, _resnet)]


#: ``[(backbone class, rule)]``, filled on first use; a rule returns
#: ``(divisor, why)``. Append a pair to cover another backbone.
INPUT_SIZE_RULES: List[Tuple[type, Callable]] = []


def required_divisor(backbone: nn.Module) -> Optional[Tuple[int, str]]:
    """``(divisor, why)``: each input side must be a multiple of
    ``divisor``; None for a backbone without a rule."""
    if not INPUT_SIZE_RULES:
        INPUT_SIZE_RULES.extend(_rules())
    for cls, rule in INPUT_SIZE_RULES:
        if isinstance(backbone, cls):
            return rule(backbone)
    return None


def nearest_valid_sizes(size: Sequence[int],
                        divisor: int) -> Tuple[Tuple[int, ...], ...]:
    """The valid sizes just below (if positive) and just above ``size``,
    side by side, e.g. ``(65, 63), 16 -> ((64, 48), (80, 64))``."""
    below = tuple(max(divisor, s // divisor * divisor) for s in size)
    above = tuple(-(-s // divisor) * divisor for s in size)
    return tuple(dict.fromkeys((below, above)))


def check_input_size(backbone: nn.Module, size: Sequence[int],
                     setting: str) -> None:
    """Raise if ``backbone`` cannot process inputs of ``size``.

    Args:
        backbone (nn.Module): The built backbone.
        size (Sequence[int]): ``(w, h)``, as MMPose's ``input_size``.
        setting (str): The config setting that holds ``size``, named in the
            error, e.g. ``'codec.input_size (model.head.decoder)'``.

    Raises:
        ValueError: A side is not a multiple of the backbone's total
            downsampling.
    """
    rule = required_divisor(backbone)
    if rule is None or size is None:
        return
    divisor, why = rule
    size = tuple(int(s) for s in size)
    if all(s > 0 and s % divisor == 0 for s in size):
        return
    valid = ' or '.join(str(v) for v in nearest_valid_sizes(size, divisor))
    raise ValueError(
        f'{setting}={size}: {type(backbone).__name__} needs each side of its '
        f'input to be a multiple of {divisor} ({why}); nearest valid sizes: '
        f'{valid}')
