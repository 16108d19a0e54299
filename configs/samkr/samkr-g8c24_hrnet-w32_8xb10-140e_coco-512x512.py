# Table 2, 8_SAMKR_24: g=8, c=24, s=3.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(
    head=dict(num_displacement_filters_per_keypoint=24, num_subspaces=8))
