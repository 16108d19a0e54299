# CPU tier of the paper's coupled reading (../../sadinet-coupled_*): the
# SADI-Net LSP CPU tier with L(H2) and the likelihood training the
# hourglass too.
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(
    backbone=dict(feature_grad_scale=1.0), head=dict(h2_mode='coupled'))
