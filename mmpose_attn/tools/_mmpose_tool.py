"""Run one of MMPose's own tools (``mmpose/.mim/tools``) with mmpose_attn
imported first, so our modules are registered and mmengine checkpoints load
under ``torch.load(weights_only=True)``."""
import os.path as osp
import runpy
import sys

import mmpose

import mmpose_attn  # noqa: F401


def run_mmpose_tool(name: str) -> None:
    script = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools', name)
    if not osp.isfile(script):
        raise FileNotFoundError(
            f'MMPose tool {script} is missing: mmpose_attn needs a regular '
            'mmpose 1.3.2 install (scripts/setup_env.sh)')
    sys.argv[0] = script
    runpy.run_path(script, run_name='__main__')
