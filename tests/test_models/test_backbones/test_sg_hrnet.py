import copy

import pytest
import torch
from mmpose.models.backbones import HRNet
from mmpose.registry import MODELS

from mmpose_attn.models.backbones import SegmentationGuidedModule, SGHRNet


def _extra(c=32, blocks=4, modules=(1, 4, 3)):
    return dict(
        stage1=dict(
            num_modules=1,
            num_branches=1,
            block='BOTTLENECK',
            num_blocks=(blocks, ),
            num_channels=(64 if c == 32 else 2 * c, )),
        stage2=dict(
            num_modules=modules[0],
            num_branches=2,
            block='BASIC',
            num_blocks=(blocks, ) * 2,
            num_channels=(c, 2 * c)),
        stage3=dict(
            num_modules=modules[1],
            num_branches=3,
            block='BASIC',
            num_blocks=(blocks, ) * 3,
            num_channels=(c, 2 * c, 4 * c)),
        stage4=dict(
            num_modules=modules[2],
            num_branches=4,
            block='BASIC',
            num_blocks=(blocks, ) * 4,
            num_channels=(c, 2 * c, 4 * c, 8 * c)))


TINY = dict(extra=_extra(c=4, blocks=1, modules=(1, 2, 2)), init_cfg=None)


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_w32_params_within_0p1m_of_hrnet():
    sg = SGHRNet(_extra())
    hr = HRNet(_extra())
    diff = _n_params(sg) - _n_params(hr)
    # 4 SGMs: 3x3 conv 32->32 (no bias, BN) + 1x1 conv 32->1 with bias
    assert diff == 4 * (9 * 32 * 32 + 2 * 32 + 32 + 1) == 37252
    assert diff < 0.1e6
    # every HRNet parameter keeps its name: HRNet checkpoints load as-is
    missing, unexpected = sg.load_state_dict(hr.state_dict(), strict=False)
    assert not unexpected
    assert all(k.startswith(('stage_sgms.', 'final_sgm.')) for k in missing)


def test_w32_forward_shapes():
    sg = SGHRNet(_extra()).eval()
    with torch.no_grad():
        feat, seg_maps = sg(torch.rand(1, 3, 256, 192))
    assert feat.shape == (1, 32, 64, 48)
    assert seg_maps.shape == (1, 4, 64, 48)


def test_maps_in_unit_range_and_heatmap_size():
    model = MODELS.build(dict(type='SGHRNet', **TINY)).train()
    feats = model(torch.rand(2, 3, 64, 64))
    assert len(feats) == 2
    assert feats[0].shape == (2, 4, 16, 16)
    seg_maps = feats[-1]
    assert seg_maps.shape == (2, 4, 16, 16)
    assert seg_maps.min() >= 0 and seg_maps.max() <= 1
    # gradient reaches every SGM through its map
    seg_maps.sum().backward()
    for sgm in [*model.stage_sgms, model.final_sgm]:
        assert sgm.seg_conv.weight.grad.abs().sum() > 0


def _set_map(sgm, value_logit):
    """Make an SGM output the constant map sigmoid(value_logit)."""
    torch.nn.init.zeros_(sgm.seg_conv.weight)
    torch.nn.init.constant_(sgm.seg_conv.bias, value_logit)


def test_reduces_to_hrnet_when_maps_are_one():
    torch.manual_seed(0)
    hr = HRNet(**TINY)
    hr.eval()  # HRNet.train returns None
    sg = SGHRNet(**TINY).eval()
    sg.load_state_dict(hr.state_dict(), strict=False)
    for sgm in [*sg.stage_sgms, sg.final_sgm]:
        _set_map(sgm, 100.)  # sigmoid(100) == 1 in float32
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        ref = hr(x)
        *feats, seg_maps = sg(x)
    assert torch.equal(seg_maps, torch.ones_like(seg_maps))
    assert len(feats) == len(ref)
    for a, b in zip(feats, ref):
        assert torch.equal(a, b)


@pytest.mark.parametrize('idx', [0, 1, 2, 3])
def test_each_module_multiplies_its_branch(idx):
    """Eq. 4 with s = 0: a zero map after stage 2/3/4 kills the
    high-resolution input of the fusion (the output still gets the
    low-resolution branches); a zero final map zeroes the output."""
    torch.manual_seed(0)
    sg = SGHRNet(**TINY).eval()
    sgms = [*sg.stage_sgms, sg.final_sgm]
    for sgm in sgms:
        _set_map(sgm, 100.)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = sg(x)[0]
        _set_map(sgms[idx], -200.)  # sigmoid(-200) == 0
        out, seg_maps = sg(x)
    assert (seg_maps[:, idx] == 0).all()
    assert not torch.equal(out, ref)
    if idx == 3:
        assert (out == 0).all()
    else:
        assert (out != 0).any()


def test_deepcopy_uses_its_own_modules():
    sg = SGHRNet(**TINY).eval()
    twin = copy.deepcopy(sg)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = sg(x)[1]
        _set_map(twin.stage_sgms[0], -200.)
        assert torch.equal(sg(x)[1], ref)
        assert (twin(x)[1][:, 0] == 0).all()


def test_sgm_module_and_bad_widths():
    sgm = SegmentationGuidedModule(8)
    x = torch.rand(2, 8, 5, 6)
    y, s = sgm(x)
    assert s.shape == (2, 1, 5, 6)
    torch.testing.assert_close(y, x * s)
    extra = _extra(c=4, blocks=1, modules=(1, 1, 1))
    extra['stage3']['num_channels'] = (6, 8, 16)
    with pytest.raises(ValueError, match='keep its width'):
        SGHRNet(extra)
