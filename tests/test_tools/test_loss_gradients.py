"""The gradient of each loss term on a part of the model: hand-computed on a
linear model, and on SADI-Net's readings, where the coupling decides which
terms reach the hourglass."""
import os.path as osp

import pytest
import torch
from torch import nn

from mmpose_attn.tools.analysis import loss_gradients as lg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CPU_TIER = osp.join(REPO, 'configs', 'sadinet', 'cpu_tier')
HOURGLASS = ['backbone.stem', 'backbone.hourglasses', 'backbone.stack_outputs',
             'backbone.feat_remaps']


class _TwoTerms(nn.Module):
    """loss_a = sum(w . x), loss_b = [-3 sum(w . x), sum(w . x)] (a list,
    summed as MMPose sums it): gradients x and -2x on w."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(3, 1, bias=False)
        self.head = nn.Linear(1, 1)

    def data_preprocessor(self, batch, training):
        return dict(inputs=batch['x'])

    def forward(self, inputs, mode):
        y = self.head(self.backbone(inputs)).sum()
        z = self.backbone(inputs).sum()
        return dict(loss_a=z, loss_b=[-3 * z, z], loss_head=y, acc=y)


def test_term_gradients_by_hand():
    torch.manual_seed(0)
    model = _TwoTerms()
    x = torch.tensor([[1., 2., 2.], [0., 0., 0.]])  # sum over the batch: 3
    z = float(model.backbone(x).sum())
    result = lg.term_gradients(model, dict(x=x), list(
        model.backbone.parameters()))
    assert set(result) == {'loss_a', 'loss_b', 'loss_head'}  # no acc
    assert result['loss_a']['value'] == pytest.approx(z)
    assert result['loss_b']['value'] == pytest.approx(-2 * z)
    assert result['loss_a']['grad_norm'] == pytest.approx(3.0)
    assert result['loss_b']['grad_norm'] == pytest.approx(6.0)
    # the head's term: d/dw of c * (w . x) with c the head's weight
    c = float(model.head.weight)
    assert result['loss_head']['grad_norm'] == pytest.approx(3 * abs(c))
    total = 1 - 2 + c
    assert result['loss_a']['cosine'] == pytest.approx(
        1.0 if total > 0 else -1.0)
    assert result['loss_b']['cosine'] == pytest.approx(
        -1.0 if total > 0 else 1.0)


@pytest.mark.parametrize('config,rle_reaches_the_hourglass', [
    ('ablations/sadinet-coupled_rfm-hourglass2-cpu-tier_1xb16-210e_'
     'lsp-128x128.py', True),
    ('sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py', False),
])
def test_which_sadinet_terms_reach_the_hourglass(lspet_300, lspet_split,
                                                 capsys, config,
                                                 rle_reaches_the_hourglass):
    """On real LSP-extended batches: in the paper's coupled reading the
    likelihood's gradient on the hourglass dwarfs the heatmap MSE's and sets
    the direction of the sum (README "Coupling"); in the detached default it
    is exactly 0 there and the heatmap terms steer."""
    train_ann, val_ann = lspet_split
    result = lg.main([
        osp.join(CPU_TIER, config), '--part', *HOURGLASS, '--batches', '1',
        '--batch-size', '4', '--data-root', lspet_300, '--train-ann',
        train_ann, '--val-ann', val_ann, '--cfg-options',
        'train_dataloader.num_workers=0'
    ])
    assert set(result) == {'loss_kpt', 'loss_dlm', 'loss_rle'}
    rle, kpt = result['loss_rle'], result['loss_kpt']
    assert kpt['grad_norm'] > 0
    if rle_reaches_the_hourglass:
        assert rle['grad_norm'] > 100 * kpt['grad_norm']
        assert rle['cosine'] > 0.99
    else:
        assert rle['grad_norm'] == 0
        assert kpt['cosine'] > 0.5
    assert '| loss_rle |' in capsys.readouterr().out


def test_unknown_part_is_named():
    with pytest.raises(ValueError, match='no_such_part'):
        lg.main([
            osp.join(CPU_TIER, 'sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_'
                     'lsp-128x128.py'), '--part', 'no_such_part'
        ])
