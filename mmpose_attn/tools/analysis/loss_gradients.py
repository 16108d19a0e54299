"""Which loss term steers a shared part of the network: the gradient of each
``loss*`` term of a config's model on the parameters of one part (the
backbone by default), on real training batches.

Usage::

    python -m mmpose_attn.tools.analysis.loss_gradients CONFIG \\
        [--part NAME [NAME ...]] [--batches N] [--batch-size B] [--seed S] \\
        [--checkpoint CKPT] \\
        [--data-root ROOT --train-ann FILE --val-ann FILE] \\
        [--cfg-options k=v ...]

Each batch comes from the config's train dataloader (its pipeline and
augmentation), or with ``--data-root/--train-ann/--val-ann`` from the
held-out split of :mod:`compare_training`. For every term the table gives its
value, the norm of its gradient on the parameters of the part (``--part``:
dotted module names, e.g. ``backbone.stem backbone.hourglasses``; default
``backbone``) and the cosine of
that gradient with the gradient of the sum of all terms (the direction the
optimiser follows), averaged over the batches. A term whose cosine is near 1
while the others' are near 0 alone decides how the part is trained, whatever
the terms' values. ``--checkpoint`` looks at a trained model instead of the
initialised one.
"""
import argparse
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from torch import nn

from .measure import drop_pretrained, load_config


def term_gradients(model: nn.Module, data_batch: dict,
                   params: Sequence[nn.Parameter]) -> Dict[str, dict]:
    """Value, gradient norm on ``params`` and cosine with the total's
    gradient of every ``loss*`` term of ``model`` on ``data_batch``."""
    data = model.data_preprocessor(data_batch, training=True)
    losses = model(**data, mode='loss')
    grads, values = {}, {}
    for key, value in losses.items():
        if not key.startswith('loss'):
            continue
        if isinstance(value, (list, tuple)):  # summed as MMPose's parse_losses
            value = sum(value)
        grad = torch.autograd.grad(
            value, params, retain_graph=True, allow_unused=True)
        grads[key] = torch.cat([(g if g is not None else torch.zeros_like(p))
                                .flatten() for g, p in zip(grad, params)])
        values[key] = float(value)
    if not grads:
        raise ValueError(f'{type(model).__name__} returned no loss* terms')
    total = sum(grads.values())
    return {
        key: dict(
            value=values[key],
            grad_norm=float(g.norm()),
            cosine=float(
                torch.nn.functional.cosine_similarity(g, total, 0, 1e-30)))
        for key, g in grads.items()
    }


def loss_gradients(config: str, part: Sequence[str] = ('backbone', ),
                   batches: int = 2,
                   batch_size: Optional[int] = None, seed: int = 0,
                   checkpoint: Optional[str] = None,
                   data_root: Optional[str] = None,
                   train_ann: Optional[str] = None,
                   val_ann: Optional[str] = None,
                   cfg_options: Optional[dict] = None) -> Dict[str, dict]:
    """The mean over ``batches`` training batches of :func:`term_gradients`
    on the parameters of the modules named in ``part`` (see the module
    docstring)."""
    from mmengine.runner import Runner
    from mmpose.registry import MODELS

    from mmpose_attn.engine.loading import load_checkpoint
    from .compare_training import heldout_config

    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    if any([data_root, train_ann, val_ann]):
        cfg = heldout_config(cfg, data_root, train_ann, val_ann)
    drop_pretrained(cfg.model)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint:
        load_checkpoint(model, checkpoint)
    model.train()
    try:
        params = [p for name in part
                  for p in model.get_submodule(name).parameters()
                  if p.requires_grad]
    except AttributeError as e:
        raise ValueError(f'{config}: {e}') from None
    loader_cfg = dict(cfg.train_dataloader, num_workers=0,
                      persistent_workers=False)
    if batch_size:
        loader_cfg['batch_size'] = batch_size
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=True,
                                 seed=seed)
    rows: List[Dict[str, dict]] = []
    for data_batch in Runner.build_dataloader(loader_cfg, seed=seed):
        rows.append(term_gradients(model, data_batch, params))
        if len(rows) == batches:
            break
    return {
        key: {k: float(np.mean([r[key][k] for r in rows]))
              for k in rows[0][key]}
        for key in rows[0]
    }


def format_table(result: Dict[str, dict], part: Sequence[str]) -> str:
    lines = [f'| term | value | gradient norm on {" + ".join(part)} | '
             'cosine with the '
             'total |', '| --- | --: | --: | --: |']
    lines += [f'| {key} | {r["value"]:.4g} | {r["grad_norm"]:.4g} | '
              f'{r["cosine"]:.3f} |' for key, r in result.items()]
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Gradient of each loss term on one part of the model, '
        'on real training batches.')
    add = parser.add_argument
    add('config')
    add('--part', nargs='+', default=['backbone'],
        help='dotted names of the modules whose parameters are looked at '
        '(default: backbone)')
    add('--batches', type=int, default=2)
    add('--batch-size', type=int, help="default: the config's")
    add('--seed', type=int, default=0)
    add('--checkpoint', help='weights to load (default: the initialisation)')
    add('--data-root', help='held-out split, as compare_training')
    add('--train-ann')
    add('--val-ann')
    add('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None) -> Dict[str, dict]:
    args = parse_args(argv)
    if args.batches < 1:
        raise ValueError(f'--batches must be >= 1, got {args.batches}')
    result = loss_gradients(**vars(args))
    print(format_table(result, args.part))
    return result


if __name__ == '__main__':
    main()
