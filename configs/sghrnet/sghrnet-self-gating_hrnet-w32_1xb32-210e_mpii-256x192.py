# SG-HRNet, MPII 256x192, with the self-gating reading of the SGM: each
# stage's map is computed from the high-resolution branch output it
# multiplies (Sec. 3.2 read alone), instead of from the previous stage's
# high-resolution features (Sec. 3.3, the default). Otherwise the
# paper-literal MPII config.
_base_ = ['./sghrnet_hrnet-w32_1xb32-210e_mpii-256x192.py']

model = dict(backbone=dict(guidance='self_gating'))
