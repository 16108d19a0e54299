# SG-HRNet (Tang et al., TS 2024), COCO val2017, Table 2 "Our": HRNet-W32
# with the Segmentation Guided Modules, bilinear fusion upsampling (Sec.
# 3.3), on the paper's recipe (_base_/sghrnet-recipe.py, Sec. 4.3). Its
# same-recipe HRNet: td-hm_hrnet-w32_1xb32-210e_coco-256x192_sghrnet-recipe.py
_base_ = [
    './_base_/sghrnet-recipe_coco-256x192.py',
    './_base_/sghrnet-w32.py'
]

model = dict(
    head=dict(out_channels=17, decoder=_base_.codec))
