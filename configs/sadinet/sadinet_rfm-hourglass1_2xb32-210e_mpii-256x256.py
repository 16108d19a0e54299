# SADI-Net with a single RFM hourglass stack (no intermediate supervision):
# the reading of the previous release, kept as a lighter variant (see the
# README, "Hourglass stacks").
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(backbone=dict(num_stacks=1), head=dict(num_stacks=1))
