# CPU tier of Table 3's "RFM" row (../../td-hm_rfm-hourglass_*): the
# CPU-tier basic-block baseline it inherits (2 stacks of 32 channels,
# 128x128, batch 16, heatmap loss only: no SFM, no DLM) with the RFM's
# dilated branch and SE block.
_base_ = ['../td-hm_basic-hourglass2-cpu-tier_1xb16-210e_mpii-128x128.py']

model = dict(backbone=dict(dilated_branch=True, se_ratio=16))
