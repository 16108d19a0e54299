# CPU tier of the paper's coupled reading with the stability switch of
# Eq. 4 -> hourglass: its DLM terms send 0.1 of their gradient into the
# hourglass (README "Coupling").
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(
    backbone=dict(feature_grad_scale=0.1), head=dict(h2_mode='coupled'))
