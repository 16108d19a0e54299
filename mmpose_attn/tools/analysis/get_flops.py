"""Parameters and GFLOPs of a config's network at its input size.

Usage::

    python -m mmpose_attn.tools.analysis.get_flops CONFIG [CONFIG ...] \\
        [--input-shape H W] [--cfg-options k=v ...] [--show-table]

``CONFIG`` is a path or a ``pkg::`` path, e.g. ``mmpose::body_2d_keypoint/
topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py`` (one
string). The count uses mmengine's complexity counter (``mmengine.analysis``,
the fvcore-derived ``FlopAnalyzer`` behind ``get_model_complexity_info`` and
MMPose's own ``get_flops``) on the model's ``_forward`` (backbone + neck +
head, no post-processing, single scale, no flip) for one ``3 x H x W`` image.
Conventions are mmengine's: one fused multiply-add counts as one FLOP,
BatchNorm and upsampling are counted, element-wise ops (add, mul, sigmoid,
softmax, ...) are not; ops without a formula are listed on stderr. mmcv's
deformable convolutions (DEKR) are counted like convolutions. ``H x W`` is
the codec's ``input_size`` unless ``--input-shape`` is given; top-down and
bottom-up (e.g. DEKR) configs work alike.
"""
import argparse
import sys
from collections import Counter
from typing import Any, List, Optional, Sequence, Tuple

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.config import DictAction
from torch import nn

from mmpose_attn.models.utils.deform_conv import DeformConv2d
from .measure import (ConfigLike, build_model, input_hw_of, load_config,
                      parse_hw)


def _deform_conv_flop_jit(weight_index: int):
    """FLOP handle for deformable convolutions (mmcv's trace as one
    ``prim::PythonOp`` each, torchvision's as one op): counted as the
    convolution they compute (one MAC per kernel tap and input channel per
    output element); the bilinear sampling at the offsets is not counted."""

    def handle(inputs: List[Any], outputs: List[Any]) -> Counter:
        from mmengine.analysis.jit_handles import get_shape
        n, _, h, w = get_shape(outputs[0])
        c_out, c_in_per_group, kh, kw = get_shape(inputs[weight_index])
        return Counter(
            deform_conv=n * c_out * c_in_per_group * kh * kw * h * w)

    return handle


# Positions of ``weight`` in the ``forward`` signatures of mmcv's
# DeformConv2dFunction(input, offset, weight, ...) and
# ModulatedDeformConv2dFunction(input, offset, mask, weight, ...), and in
# torchvision's traced op deform_conv2d(input, weight, offset, ...).
_EXTRA_OP_HANDLES = {
    'prim::PythonOp.DeformConv2dFunction': _deform_conv_flop_jit(2),
    'prim::PythonOp.ModulatedDeformConv2dFunction': _deform_conv_flop_jit(3),
    'torchvision::deform_conv2d': _deform_conv_flop_jit(1),
}


def model_complexity(model: nn.Module,
                     input_hw: Tuple[int, int],
                     with_table: bool = False) -> dict:
    """Count params and FLOPs of ``model`` on one ``3 x H x W`` image.

    ``model._forward`` (MMPose estimators) is analysed when present, else
    ``model.forward``.

    Returns:
        dict: ``params`` (int), ``flops`` (int, multiply-adds),
        ``params_m``, ``gflops`` (floats), ``by_operator`` (``{op:
        flops}``), ``unsupported_ops``
        (``{op: count}`` of traced ops that have no FLOP formula and so
        contribute 0) and ``table`` (per-module breakdown, when
        ``with_table``).
    """
    was_training = model.training
    model.eval()
    forward = getattr(model, '_forward', None)
    if forward is not None:
        # The analyzer traces ``model.forward``; MMPose's get_flops does
        # the same rebinding.
        model.forward = forward
    # A model's FLOPs do not depend on the deformable-convolution kernel:
    # count each as torchvision's op (the grid_sample path would add its
    # bilinear sampling; mmcv's op has no CUDA kernel in this build).
    deform_convs = [m for m in model.modules() if isinstance(m, DeformConv2d)]
    backends = [m.backend for m in deform_convs]
    for m in deform_convs:
        m.backend = 'torchvision'
    try:
        device = next(model.parameters()).device
        inputs = (torch.randn(1, 3, *input_hw, device=device), )
        analyzer = FlopAnalyzer(model, inputs)
        for name, handle in _EXTRA_OP_HANDLES.items():
            analyzer.set_op_handle(name, handle)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        with torch.no_grad():
            flops = analyzer.total()
            table = complexity_stats_table(
                analyzer, show_param_shapes=False) if with_table else None
        unsupported = dict(analyzer.unsupported_ops())
        by_operator = dict(analyzer.by_operator())
    finally:
        if forward is not None:
            del model.forward
        model.train(was_training)
        for m, backend in zip(deform_convs, backends):
            m.backend = backend
    params = parameter_count(model)['']
    return dict(
        params=params,
        flops=flops,
        params_m=params / 1e6,
        gflops=flops / 1e9,
        by_operator=by_operator,
        unsupported_ops=unsupported,
        table=table)


def get_flops(config: ConfigLike,
              input_shape: Optional[Sequence[int]] = None,
              cfg_options: Optional[dict] = None,
              device: str = 'cpu',
              with_table: bool = False) -> dict:
    """Build ``config``'s model offline and count its params and FLOPs.

    Args:
        config (str | Config): Config path, ``pkg::`` path or config.
        input_shape (Sequence[int], optional): ``(H, W)`` or ``(S,)`` for a
            square input. Defaults to the codec's ``input_size``.
        cfg_options (dict, optional): Overrides merged into the config.
        device (str): Where to build the model. Defaults to ``'cpu'``.
        with_table (bool): Also return the per-module table.

    Returns:
        dict: :func:`model_complexity`'s dict plus ``config`` and
        ``input_hw``.
    """
    cfg = load_config(config, cfg_options)
    input_hw = parse_hw(input_shape) if input_shape else input_hw_of(cfg)
    model = build_model(cfg, device)
    result = model_complexity(model, input_hw, with_table=with_table)
    result.update(config=config if isinstance(config, str) else cfg.filename,
                  input_hw=input_hw)
    return result


def format_rows(results: Sequence[dict]) -> str:
    """Markdown table: config | input | params (M) | GFLOPs."""
    lines = ['| config | input (HxW) | params (M) | GFLOPs |',
             '| :-- | :-: | --: | --: |']
    for r in results:
        h, w = r['input_hw']
        lines.append(f"| {r['config']} | {h}x{w} | {r['params_m']:.2f} | "
                     f"{r['gflops']:.2f} |")
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Params (M) and GFLOPs (1 MAC = 1 FLOP, mmengine '
        "counter) of configs' networks at their input size")
    add = parser.add_argument
    add('configs', nargs='+', metavar='CONFIG',
        help='config path(s) or pkg:: path(s), e.g. mmpose::body_2d_keypoint'
        '/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
    add('--input-shape', type=int, nargs='+', default=None, metavar='N',
        help='input H W (or S for square); default: the codec input_size')
    add('--cfg-options', nargs='+', action=DictAction, default={},
        help='override config entries, xxx=yyy (applied to every config)')
    add('--device', default='cpu')
    add('--show-table', action='store_true',
        help='also print the per-module breakdown')
    return parser.parse_args(argv)


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    results = []
    for config in args.configs:
        result = get_flops(config, args.input_shape, args.cfg_options,
                           args.device, with_table=args.show_table)
        results.append(result)
        if args.show_table:
            print(result['table'])
        if result['unsupported_ops']:
            print(f'note: {config}: ops without a FLOP formula (counted as '
                  f"0): {result['unsupported_ops']}", file=sys.stderr)
    print(format_rows(results))
    return results


if __name__ == '__main__':
    main()
