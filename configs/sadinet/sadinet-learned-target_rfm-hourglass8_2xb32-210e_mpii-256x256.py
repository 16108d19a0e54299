# Variant reading of Eq. 7-8 (Fig. 1, "new supervised heatmaps"): H2 is a
# learned target for H1, L = (1 - chi) MSE(H1, Gaussian) + chi MSE(H1, H2)
# with H2 not back-propagated, as in the default, but with the likelihood's
# gradient reaching the hourglass too (README "Coupling").
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(
    backbone=dict(feature_grad_scale=1.0), head=dict(h2_mode='learned_target'))
