# Variant reading of Eq. 4 + Eq. 7-8: H2 is a learned target for H1 (as
# ./sadinet-learned-target_*) and the likelihood P_{theta,xi} trains what
# Eq. 4 names, theta (the SFM and its regression) and xi (the flow), not the
# hourglass: its gradient stops at the SFM's input features. The DLM still
# changes the deployed model, through H1's target (README "Coupling").
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(
    backbone=dict(feature_grad_scale=0.0), head=dict(h2_mode='learned_target'))
