"""`mim train mmpose_attn CONFIG ...`: MMPose's tools/train.py with mmpose_attn
imported and the config's `runner_type` built. Accepts exactly MMPose's
arguments (`--launcher pytorch|slurm`, ...)."""
from mmpose_attn.tools._mmpose_tool import train

if __name__ == '__main__':
    train()
