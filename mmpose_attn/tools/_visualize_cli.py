"""Arguments and model loading shared by the ``visualize_*`` tools, which
each save one PNG of a model's attention maps for one image."""
import argparse
import os.path as osp
from typing import Optional

from mmpose.apis import init_model
from torch import nn

import mmpose_attn  # noqa: F401  (registers our modules for init_model)


def model_image_parser(description: str,
                       model_name: str,
                       out_default: Optional[str] = None
                       ) -> argparse.ArgumentParser:
    """A parser with the common arguments: ``config checkpoint img``,
    ``--out`` and ``--device``; a tool adds its own on top.

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
    return parser


def load_model_for(args: argparse.Namespace) -> nn.Module:
    """Check the files named by ``args`` before the slow model build, then
    build the model with :func:`mmpose.apis.init_model`.

    Args:
        args (argparse.Namespace): Parsed from :func:`model_image_parser`.

    Returns:
        nn.Module: The model on ``args.device``, in eval mode.

    Raises:
        FileNotFoundError: The config, checkpoint or image does not exist.
        ValueError: ``--out`` does not end with ``.png``.
    """
    for kind, path in (('config', args.config),
                       ('checkpoint', args.checkpoint), ('image', args.img)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file {path} does not exist')
    if not args.out.lower().endswith('.png'):
        raise ValueError(f'--out {args.out}: expected a .png file')
    return init_model(args.config, args.checkpoint, device=args.device)
