"""Arguments and model loading shared by the ``visualize_*`` tools, which
each save one PNG of a model's attention maps for one image.

One box convention for every tool: ``--bbox X1 Y1 X2 Y2`` (corners in
pixels), as MMPose's ``inference_topdown`` takes boxes. The weights go
through ``mmpose_attn.engine.loading.init_model`` (MMPose's ``init_model``
with this package's loader): a file that is not a checkpoint, or another
model's checkpoint, is an error naming the file.
"""
import argparse
import os.path as osp
from typing import Optional

from torch import nn

import mmpose_attn  # noqa: F401  (registers our modules for init_model)
from mmpose_attn.engine.loading import init_model
from mmpose_attn.tools._output import add_force_argument, check_output_path


def model_image_parser(description: str,
                       model_name: str,
                       out_default: Optional[str] = None
                       ) -> argparse.ArgumentParser:
    """A parser with the common arguments: ``config checkpoint img``,
    ``--out``, ``--device`` and ``--force``; a tool adds its own on top.

    Args:
        description (str): The tool's description for ``--help``.
        model_name (str): The model named in the config's help, e.g.
            ``'SPCNet'``.
        out_default (str, optional): Default of ``--out``; when None,
            ``--out`` is required. Default: None.

    Returns:
        argparse.ArgumentParser: The parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=f'{model_name} config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('img', help='image file')
    parser.add_argument(
        '--out',
        default=out_default,
        required=out_default is None,
        help='output PNG')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    add_force_argument(parser)
    return parser


def add_bbox_argument(parser: argparse.ArgumentParser,
                      when: str = '') -> None:
    """Add ``--bbox X1 Y1 X2 Y2``, the person box of a top-down tool.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        when (str): Prefix of the help's condition, e.g.
            ``'without --ann; '``. Default: ``''``.
    """
    parser.add_argument(
        '--bbox',
        nargs=4,
        type=float,
        metavar=('X1', 'Y1', 'X2', 'Y2'),
        help=f'person box corners in pixels ({when}default: the whole '
        'image)')


def load_model_for(args: argparse.Namespace) -> nn.Module:
    """Check the files named by ``args`` before the slow model build, then
    build the model with :func:`mmpose_attn.engine.loading.init_model`.

    Args:
        args (argparse.Namespace): Parsed from :func:`model_image_parser`.

    Returns:
        nn.Module: The model on ``args.device``, in eval mode.

    Raises:
        FileNotFoundError: The config, checkpoint or image does not exist.
        FileExistsError: ``--out`` exists and ``--force`` is not given.
        ValueError: ``--out`` does not end with ``.png``, or ``--bbox`` is
            not ``X1 Y1 X2 Y2`` with positive extent.
        RuntimeError: The checkpoint belongs to another architecture.
    """
    for kind, path in (('config', args.config),
                       ('checkpoint', args.checkpoint), ('image', args.img)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file {path} does not exist')
    if not args.out.lower().endswith('.png'):
        raise ValueError(f'--out {args.out}: expected a .png file')
    check_output_path(args.out, getattr(args, 'force', False))
    bbox = getattr(args, 'bbox', None)
    if bbox is not None and not (bbox[2] > bbox[0] and bbox[3] > bbox[1]):
        raise ValueError(
            f'--bbox {" ".join(f"{v:g}" for v in bbox)}: expected X1 Y1 X2 '
            'Y2 with X2 > X1 and Y2 > Y1 (corners, not width and height)')
    return init_model(args.config, args.checkpoint, device=args.device)
