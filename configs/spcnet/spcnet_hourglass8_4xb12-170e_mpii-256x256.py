# Table 2 "Baseline+SIM(IC+ID)" (Table 3: SIM without DHM): Newell's 8-stack
# hourglass + Selective Information Module on its 8, 16, 32, 64 px levels.
_base_ = ['./spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py']

model = dict(
    backbone=dict(num_downsamples=4, dilated_blocks=False, dilation=1))
