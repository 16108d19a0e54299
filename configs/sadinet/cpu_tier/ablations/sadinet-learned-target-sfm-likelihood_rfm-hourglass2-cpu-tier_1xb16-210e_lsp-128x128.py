# CPU tier of the learned-target reading with the likelihood on the SFM and
# the flow only (../../sadinet-learned-target-sfm-likelihood_*).
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(
    backbone=dict(feature_grad_scale=0.0), head=dict(h2_mode='learned_target'))
