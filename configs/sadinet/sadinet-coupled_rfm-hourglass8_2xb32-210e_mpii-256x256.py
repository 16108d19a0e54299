# The paper's one objective read literally (Eq. 4, 7-8, Fig. 2): L(H2) =
# MSE(H2, Gaussian target) with H2 rendered from mu_hat and sigma_hat with
# their gradients, and the likelihood's gradient too, reach the DLM, the SFM
# and the RFM hourglass. Not the default: on held-out images it falls far
# behind the detached default; the likelihood's gradient, ~30,000x the
# heatmap terms' on the hourglass, sets how the hourglass is trained
# (README "Coupling").
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(
    backbone=dict(feature_grad_scale=1.0), head=dict(h2_mode='coupled'))
