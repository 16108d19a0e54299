# Table 2, 8_SAMKR_8: g=8, c=8, s=1.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(
    head=dict(num_displacement_filters_per_keypoint=8, num_subspaces=8))
