"""Pose estimation on one image with an exported ONNX file in ONNX Runtime,
drawn with MMPose's visualizer.

Usage::

    python -m mmpose_attn.tools.deployment.onnx_inference FILE CONFIG IMAGE \\
        [--bbox X Y W H] --out PICTURE [--checkpoint CKPT] [--kpt-thr T] \\
        [--threads N] [--force]

Preprocessing is the config's test pipeline and data preprocessor;
decoding is the config's head ``predict`` (MMPose's codec) with the network
replaced by the ONNX file (:func:`core.network_replaced`). Where the config
sets ``test_cfg.flip_test``, the file runs twice, on the input and its
mirror, and the head merges the two as in PyTorch. Top-down models estimate the
person in ``--bbox`` (default: the whole image); bottom-up models (DEKR,
SAMKR) decode every person as the config's decoder does. ``--checkpoint``
is needed only for weights used outside the network: DEKR's rescore net
(without it, rescoring is off).
"""
import argparse
import os.path as osp
import sys

from .. import _output
from . import core


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Pose estimation with an ONNX file in ONNX Runtime')
    parser.add_argument('onnx_file', help='file written by pytorch2onnx')
    parser.add_argument('config', help='the config it was exported from')
    parser.add_argument('image', help='image file')
    parser.add_argument(
        '--bbox', type=float, nargs=4, metavar=('X', 'Y', 'W', 'H'),
        default=None, help='person box (top-down; default: whole image)')
    parser.add_argument('--out', required=True, help='picture to write')
    parser.add_argument(
        '--checkpoint', default=None,
        help='checkpoint for the parts outside the network (rescore net)')
    parser.add_argument('--kpt-thr', type=float, default=0.3,
                        help='draw keypoints scoring above this')
    parser.add_argument('--threads', type=int, default=None,
                        help='ONNX Runtime intra-op threads')
    _output.add_force_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    core.require_onnx()
    for path, what in ((args.onnx_file, 'ONNX file'), (args.image, 'image')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    _output.check_output_path(args.out, args.force)
    import mmcv
    from mmpose.visualization import PoseLocalVisualizer

    model = core.load_model(args.config, args.checkpoint)
    if args.checkpoint is None and getattr(model.head, 'rescore_net',
                                           None) is not None:
        model.head.rescore_net = None  # untrained here: no rescoring
        model.head.rescore_on = False
    session = core.ort_session(args.onnx_file, args.threads)
    img = mmcv.imread(args.image)
    if core.is_bottomup(model) and args.bbox is not None:
        raise ValueError(f'config {args.config} is bottom-up: it finds the '
                         'people itself, --bbox is for top-down models')
    inputs, samples = core.prepare_batch(
        model, [img], [args.bbox] if args.bbox else None)
    import torch
    with torch.no_grad(), core.network_replaced(
            model, core.session_network(session)):
        pred = model.predict(inputs, samples)[0]
    visualizer = PoseLocalVisualizer()
    visualizer.set_dataset_meta(model.dataset_meta)
    visualizer.add_datasample(
        'onnx', mmcv.bgr2rgb(img), data_sample=pred, draw_gt=False,
        draw_bbox=not core.is_bottomup(model), kpt_thr=args.kpt_thr,
        show=False, out_file=args.out)
    flip = model.test_cfg.get('flip_test', False)
    people = len(pred.pred_instances.keypoints)
    print(f'{people} person(s); flip test: '
          f'{"two runs of the file (input and mirror)" if flip else "off"}'
          f'; wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(core.run_cli(main))
