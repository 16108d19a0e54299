# Tables 3-4 "Hourglass" as the paper draws it (Sec. IV-E1, Fig. 3(b)): the
# 8-stack hourglass of MMPose BasicBlocks (two 3x3 convs), i.e. the RFM
# hourglass minus the dilated branch and the SE block. Baseline of the RFM
# (Table 3) and SFM-DLM (Table 4) rows and of SADI-Net's learning check.
_base_ = ['./td-hm_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(backbone=dict(dilated_branch=False, se_ratio=None))
