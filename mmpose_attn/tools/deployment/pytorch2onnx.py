"""Export a config's pose network (backbone + neck + head) to ONNX.

Usage::

    python -m mmpose_attn.tools.deployment.pytorch2onnx CONFIG CHECKPOINT \\
        --out FILE [--input-size H W] [--no-dynamic-batch] [--opset N] \\
        [--deform-conv DeformConv|GridSample] [--output-names NAME ...] \\
        [--simplify] [--verify] [--threads N] [--force]

Outputs ``heatmaps`` (and ``displacements`` for DEKR/SAMKR), input
``input`` (normalised as the config's data preprocessor does); standard ONNX
operators only (see :mod:`mmpose_attn.tools.deployment.core`).
``--verify`` compares PyTorch and ONNX Runtime on a real sample image at
batch 1 and 4 and exits non-zero above 1e-4 (outputs) or 0.5 px
(keypoints); its summary is the last line printed.
"""
import argparse
import sys

from .. import _output
from . import core


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export a pose model to ONNX (standard operators)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint of the config\'s model')
    parser.add_argument('--out', required=True, help='ONNX file to write')
    parser.add_argument(
        '--input-size', type=int, nargs=2, metavar=('H', 'W'), default=None,
        help='traced input size (default: the codec\'s input_size)')
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument(
        '--dynamic-batch', dest='dynamic_batch', action='store_true',
        default=True, help='dynamic batch axis (the default)')
    batch.add_argument(
        '--no-dynamic-batch', dest='dynamic_batch', action='store_false',
        help='fixed batch size 1')
    parser.add_argument(
        '--opset', type=int, default=None,
        help='ONNX opset (default: 19 with a deformable convolution, else 17)')
    parser.add_argument(
        '--deform-conv', choices=('DeformConv', 'GridSample'),
        default='DeformConv',
        help='ONNX form of deformable convolutions (default: DeformConv, '
        'the faster in ONNX Runtime)')
    parser.add_argument(
        '--output-names', nargs='+', default=None, metavar='NAME',
        help='output names (default: heatmaps [displacements]; `output` '
        'for MMDeploy\'s SDK, see docs/deployment.md)')
    parser.add_argument(
        '--simplify', action='store_true', help='run onnxslim on the file')
    parser.add_argument(
        '--verify', action='store_true',
        help='compare PyTorch and ONNX Runtime on a sample image')
    parser.add_argument(
        '--threads', type=int, default=None,
        help='ONNX Runtime / torch CPU threads for --verify')
    _output.add_force_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    core.require_onnx()
    _output.check_output_path(args.out, args.force)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    model = core.load_model(args.config, args.checkpoint)
    info = core.export(
        model, args.out,
        input_size=tuple(args.input_size) if args.input_size else None,
        opset=args.opset, dynamic_batch=args.dynamic_batch,
        deform_conv_op=args.deform_conv, simplify=args.simplify,
        names=args.output_names)
    h, w = info['input_size']
    print(f'wrote {info["path"]}: opset {info["opset"]}, input '
          f'{core.INPUT_NAME} (B, 3, {h}, {w}), outputs '
          f'{", ".join(info["outputs"])}, dynamic axes '
          f'{info["dynamic_axes"] or "none"}; operators: '
          f'{" ".join(info["ops"])}')
    if args.verify:
        report = core.verify(
            model, args.out, threads=args.threads,
            batch_sizes=(1, 4) if args.dynamic_batch else (1, ))
        print(core.verify_line(report))
        return 0 if core.verify_passed(report) else 1
    return 0


if __name__ == '__main__':
    sys.exit(core.run_cli(main))
