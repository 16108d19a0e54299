# Table 4 "Hourglass + SFM-DLM": SFM and DLM on the paper's Hourglass baseline,
# the 8-stack hourglass of basic blocks (Fig. 3(b): RFMs without the dilated
# branch and the SE block; F_1..F_4 projected as in SADI-Net).
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(backbone=dict(dilated_branch=False, se_ratio=None))
