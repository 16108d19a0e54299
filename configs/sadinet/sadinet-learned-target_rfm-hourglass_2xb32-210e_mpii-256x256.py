# Variant reading of Eq. 7-8 (Fig. 1, "new supervised heatmaps"): H2 is a
# learned target for H1, L = (1 - chi) MSE(H1, Gaussian) + chi MSE(H1, H2)
# with H2 not back-propagated; the DLM is trained by its likelihood, whose
# gradient reaches the SFM and the hourglass (README "Coupling").
_base_ = ['./sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py']

model = dict(head=dict(h2_mode='learned_target'))
