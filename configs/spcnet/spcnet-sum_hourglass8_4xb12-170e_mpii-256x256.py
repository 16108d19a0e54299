# Table 2 "Baseline+IC+Sum": Information Collection, then the
# element-wise sum of X1..X4 instead of Information Distribution.
_base_ = ['./spcnet_hourglass8_4xb12-170e_mpii-256x256.py']

model = dict(neck=dict(fusion='sum'))
