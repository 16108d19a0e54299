# CPU tier of the learned-target reading with the likelihood reaching the
# hourglass (../../sadinet-learned-target_*).
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(
    backbone=dict(feature_grad_scale=1.0), head=dict(h2_mode='learned_target'))
