"""`mim train mmpose_attn CONFIG ...`: MMPose's tools/train.py with mmpose_attn
imported. Accepts exactly MMPose's arguments (`--launcher pytorch|slurm`, ...)."""
from mmpose_attn.tools._mmpose_tool import run_mmpose_tool

if __name__ == '__main__':
    run_mmpose_tool('train.py')
