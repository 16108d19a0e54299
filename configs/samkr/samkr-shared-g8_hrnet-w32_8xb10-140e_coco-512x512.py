# Table 1, row 1: c=m=272, g=8 (s=34): one shared regression branch of
# m = 17 x 16 channels (no per-keypoint grouping) split into 8 subspaces.
_base_ = ['./samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

model = dict(
    head=dict(
        num_displacement_filters_per_keypoint=16,
        num_subspaces=8,
        disentangled=False))
