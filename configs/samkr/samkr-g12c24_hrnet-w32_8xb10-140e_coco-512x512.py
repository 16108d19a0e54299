# Table 2, 12_SAMKR_24: g=12, c=24, s=2. The table prints g=8, which
# contradicts s=2 (8 x 2 != 24), the name and the text ("we fix the number of
# channels in each feature subspace s=2 ... 4_SAMKR_8, 8_SAMKR_16 and
# 12_SAMKR_24"): g=12.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(
    head=dict(num_displacement_filters_per_keypoint=24, num_subspaces=12))
