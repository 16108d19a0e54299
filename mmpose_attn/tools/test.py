"""`mim test mmpose_attn CONFIG ...`: MMPose's tools/test.py with mmpose_attn
imported and the config's `runner_type` built. Accepts exactly MMPose's
arguments (`--launcher pytorch|slurm`, `--checkpoint`, ...)."""
from mmpose_attn.tools._mmpose_tool import test

if __name__ == '__main__':
    test()
