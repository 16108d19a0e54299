# Table 4 "Hourglass + SFM-DLM": SFM and DLM on the plain hourglass (Newell's
# bottlenecks instead of RFMs; F_1..F_4 projected as in SADI-Net).
_base_ = ['./sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py']

model = dict(backbone=dict(rfm=False))
