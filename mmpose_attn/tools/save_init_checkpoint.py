"""Save a config's model, freshly initialised, as an mmengine checkpoint.

``mim test`` (or ``load_from``) can then evaluate the model at
initialisation, the baseline the toy demo compares training against::

    python -m mmpose_attn.tools.save_init_checkpoint CONFIG OUT.pth [--seed 0]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint, set_random_seed
from mmengine.runner.checkpoint import weights_to_cpu
from mmpose.registry import MODELS

import mmpose_attn  # noqa: F401


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
    return parser.parse_args(argv)


def save_init_checkpoint(cfg: Config, out: str, seed: int = 0) -> None:
    """Build ``cfg.model``, run its ``init_weights`` under ``seed`` and save
    ``{'meta', 'state_dict'}`` to ``out`` (epoch 0, iteration 0)."""
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    save_checkpoint(
        dict(
            meta=dict(epoch=0, iter=0, seed=seed, cfg=cfg.pretty_text),
            state_dict=weights_to_cpu(model.state_dict())), out)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    save_init_checkpoint(cfg, args.out, args.seed)
    print(f'saved the initial weights of {args.config} to {args.out}')


if __name__ == '__main__':
    main()
