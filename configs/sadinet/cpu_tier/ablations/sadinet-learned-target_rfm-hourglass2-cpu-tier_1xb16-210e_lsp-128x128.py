# CPU tier of the learned-target reading (../../sadinet-learned-target_*):
# the SADI-Net LSP CPU tier with H2 as a target for H1.
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(head=dict(h2_mode='learned_target'))
