# Table 3 baseline as the paper draws it (Fig. 3(b)): the same hourglass with
# MMPose BasicBlocks (two 3x3 convs) instead of RFMs, i.e. the RFM minus its
# dilated branch and SE block. Isolates the RFM's own contribution; the
# Newell-bottleneck hourglass is td-hm_hourglass_*.
_base_ = ['./td-hm_rfm-hourglass_2xb32-210e_mpii-256x256.py']

model = dict(backbone=dict(dilated_branch=False, se_ratio=None))
