# CPU tier of the detached ablation (../../sadinet-detached_*): the SADI-Net
# LSP CPU tier with the DLM cut off from the hourglass.
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(
    backbone=dict(feature_grad_scale=0.0), head=dict(h2_mode='flow_only'))
