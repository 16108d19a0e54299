# CPU tier of Table 4's "Hourglass + SFM-DLM" row
# (../../sadinet-sfm-dlm_hourglass8_*): the SADI-Net LSP CPU tier on the
# paper's basic-block hourglass (Fig. 3(b): RFMs without the dilated branch
# and the SE block), SFM and DLM unchanged.
_base_ = ['../sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py']

model = dict(backbone=dict(dilated_branch=False, se_ratio=None))
