# Table 1, row 3: c=m/k=16, g=c=16 (s=1): one attention map per channel.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(
    head=dict(num_displacement_filters_per_keypoint=16, num_subspaces=16))
