# SG-HRNet on MPII at HRNet's MPII input, 256x256, with HRNet's nearest
# fusion upsampling: the paper's model and recipe otherwise. Not a paper row
# (the paper states 256x192); it compares with HRNet-W32 at HRNet's MPII
# size. Its same-recipe HRNet:
# td-hm_hrnet-w32_1xb32-210e_mpii-256x256_sghrnet-recipe.py
_base_ = [
    './_base_/sghrnet-recipe_mpii-256x256.py',
    './_base_/sghrnet-w32.py'
]

model = dict(
    # HRNet's nearest fusion upsampling (the paper: bilinear)
    backbone=dict(
        extra=dict(upsample=dict(mode='nearest', align_corners=None))),
    head=dict(out_channels=16, decoder=_base_.codec))
