# Table 5 first row: L = L(H1) + L(H2), i.e. a constant chi = 0.5 with the
# heatmap loss doubled: 2 * ((1 - 0.5) L(H1) + 0.5 L(H2)).
_base_ = ['./sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py']

model = dict(
    head=dict(
        chi=0.5,
        loss=dict(
            type='KeypointMSELoss', use_target_weight=True, loss_weight=2.0)))
