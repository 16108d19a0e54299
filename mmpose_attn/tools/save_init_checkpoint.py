"""Save a config's model, freshly initialised, as an mmengine checkpoint.

``mim test`` (or ``load_from``) can then evaluate the model at
initialisation, the baseline the toy demo compares training against::

    python -m mmpose_attn.tools.save_init_checkpoint CONFIG OUT.pth \
        [--seed 0] [--force]

An existing OUT.pth is only overwritten with ``--force``; the tool prints
one line (mmengine's per-parameter initialisation log is kept quiet).
"""
import argparse

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmengine.runner.checkpoint import weights_to_cpu
from mmpose.registry import MODELS

import mmpose_attn  # noqa: F401
from mmpose_attn.tools._output import add_force_argument, check_output_path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config file')
    parser.add_argument('out', help='checkpoint file to write')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the initialisation')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')
    add_force_argument(parser)
    return parser.parse_args(argv)


def save_init_checkpoint(cfg: Config,
                         out: str,
                         seed: int = 0,
                         force: bool = False) -> int:
    """Build ``cfg.model``, run its ``init_weights`` under ``seed`` and save
    ``{'meta', 'state_dict'}`` to ``out`` (epoch 0, iteration 0).

    Returns:
        int: The number of parameters saved.

    Raises:
        FileExistsError: ``out`` exists and ``force`` is False.
    """
    check_output_path(out, force)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    # mmengine logs every parameter's initialisation at INFO (about 1,700
    # lines for the tiny SPCNet): keep only warnings and errors
    MMLogger.get_instance('save_init_checkpoint', log_level='WARNING')
    model.init_weights()
    # what mmengine's save_checkpoint writes for a local file, without its
    # FileClient deprecation warnings
    torch.save(
        dict(
            meta=dict(epoch=0, iter=0, seed=seed, cfg=cfg.pretty_text),
            state_dict=weights_to_cpu(model.state_dict())), out)
    return sum(p.numel() for p in model.parameters())


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    num_params = save_init_checkpoint(cfg, args.out, args.seed, args.force)
    print(f'saved the initial weights of {args.config} ({num_params:,} '
          f'parameters, seed {args.seed}) to {args.out}')


if __name__ == '__main__':
    main()
