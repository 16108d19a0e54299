# SG-HRNet (Tang et al., TS 2024), MPII val, paper-literal: Table 1 "Our" and
# the r = 5 row of Table 3 (PCKh@0.5), at the paper's only stated input,
# 256x192 (Sec. 3.3, 4.3), with bilinear fusion upsampling (Sec. 3.3), on
# the paper's recipe (_base_/sghrnet-recipe.py, Sec. 4.3). Its same-recipe
# HRNet: td-hm_hrnet-w32_1xb32-210e_mpii-256x192_sghrnet-recipe.py
_base_ = [
    './_base_/sghrnet-recipe_mpii-256x192.py',
    './_base_/sghrnet-w32.py'
]

model = dict(
    head=dict(out_channels=16, decoder=_base_.codec))
