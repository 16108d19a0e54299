# CPU tier of SG-HRNet on LSP with the self-gating reading of the SGM: each
# stage's map is computed from the high-resolution branch output it
# multiplies (Sec. 3.2 read alone), instead of from the previous stage's
# high-resolution features (Sec. 3.3, the default). Otherwise the LSP CPU
# tier, for the held-out comparison of the two readings.
_base_ = ['./sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py']

model = dict(backbone=dict(guidance='self_gating'))
