# Table 2 "Baseline+IC+Concat": Information Collection, then X1..X4
# concatenated + 1x1 conv to 256 instead of Information Distribution.
_base_ = ['./spcnet_hourglass8_4xb12-170e_mpii-256x256.py']

model = dict(neck=dict(fusion='concat'))
