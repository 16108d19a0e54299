"""Run one of MMPose's own tools (``mmpose/.mim/tools``) with mmpose_attn
imported and the runner built from the config's ``runner_type``.

MMPose 1.3.2's ``tools/train.py`` and ``test.py`` build ``Runner.from_cfg``,
ignoring ``runner_type``. We take their ``parse_args`` and ``merge_args``
(same arguments, same config handling) and build the runner as MMDetection's
tools do: ``RUNNERS.build(cfg)`` when the config names a ``runner_type``
(:class:`~mmpose_attn.engine.PoseAttnRunner` in our configs).
"""
import os.path as osp
import runpy
import sys
from typing import Callable, Dict

import mmengine
import mmpose
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmpose_attn  # noqa: F401
from mmpose.registry import RUNNERS


def mmpose_tool(name: str) -> Dict[str, Callable]:
    """The functions of MMPose's ``tools/<name>`` (its ``main`` not run)."""
    script = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools', name)
    if not osp.isfile(script):
        raise FileNotFoundError(
            f'MMPose tool {script} is missing: mmpose_attn needs a regular '
            'mmpose 1.3.2 install (scripts/setup_env.sh)')
    sys.argv[0] = script
    return runpy.run_path(script, run_name='mmpose_tool')


def build_runner(cfg: Config) -> Runner:
    """``RUNNERS.build(cfg)`` when ``cfg`` names a ``runner_type``, else
    ``Runner.from_cfg(cfg)``."""
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(
        cfg)


def _config(tool: Dict[str, Callable]):
    args = tool['parse_args']()
    cfg = tool['merge_args'](Config.fromfile(args.config), args)
    return args, cfg


def train() -> None:
    """MMPose's ``tools/train.py`` ``main``, runner from ``runner_type``."""
    args, cfg = _config(mmpose_tool('train.py'))
    if 'preprocess_cfg' in cfg:
        cfg.model.setdefault('data_preprocessor',
                             cfg.get('preprocess_cfg', {}))
    build_runner(cfg).train()


class _SaveMetrics(Hook):
    """``test.py --out``: the metrics dumped to a file."""

    def __init__(self, out: str):
        self.out = out

    def after_test_epoch(self, runner, metrics=None):
        if metrics is not None:
            mmengine.dump(metrics, self.out)


def test() -> None:
    """MMPose's ``tools/test.py`` ``main``, runner from ``runner_type``."""
    args, cfg = _config(mmpose_tool('test.py'))
    runner = build_runner(cfg)
    if args.out:
        runner.register_hook(_SaveMetrics(args.out), 'LOWEST')
    runner.test()
