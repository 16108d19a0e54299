# Ablation: SADI-Net with the DLM cut off from the network it sits on. The
# SFM reads detached decoder features and H2 is rendered from detached
# mu_hat, sigma_hat, so L(H2) trains the flow only and the likelihood trains
# the projections, the SFM and the DLM; the hourglass (the deployed model) is
# trained by L(H1) alone (README "Coupling"). Not the paper's reading.
_base_ = ['./sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py']

model = dict(
    backbone=dict(feature_grad_scale=0.0), head=dict(h2_mode='flow_only'))
