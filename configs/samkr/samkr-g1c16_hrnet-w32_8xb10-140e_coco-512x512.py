# Table 1, row 2: c=m/k=16, g=1 (s=16): one attention map per keypoint.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(
    head=dict(num_displacement_filters_per_keypoint=16, num_subspaces=1))
