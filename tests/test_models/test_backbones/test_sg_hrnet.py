import copy
import pickle

import pytest
import torch
from mmpose.models.backbones import HRNet
from mmpose.models.backbones.resnet import Bottleneck
from mmpose.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmpose_attn.models.backbones import SegmentationGuidedModule, SGHRNet
from mmpose_attn.models.backbones.sg_hrnet import SGHRNetOutput


def _extra(c=32, blocks=4, modules=(1, 4, 3), multiscale_output=False):
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
            num_channels=(c, 2 * c, 4 * c, 8 * c),
            multiscale_output=multiscale_output))


# Two HR modules in every guided stage: which module carries the SGM matters.
TINY = dict(extra=_extra(c=4, blocks=1, modules=(2, 2, 2)), init_cfg=None)


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


def _sgms(sg):
    return [*sg.stage_sgms, sg.final_sgm]


def _set_map(sgm, value_logit):
    """Make an SGM output the constant map sigmoid(value_logit)."""
    torch.nn.init.zeros_(sgm.seg_conv.weight)
    torch.nn.init.constant_(sgm.seg_conv.bias, value_logit)


def _hrnet_twin(extra, seed=0):
    """An HRNet and an SGHRNet with the same HRNet weights."""
    torch.manual_seed(seed)
    hr = HRNet(extra, init_cfg=None)
    hr.eval()  # HRNet.train returns None
    sg = SGHRNet(extra, init_cfg=None).eval()
    sg.load_state_dict(hr.state_dict(), strict=False)
    return hr, sg


# -- MMPose 1.3.2 tests/test_models/test_backbones/test_hrnet.py, for both --
@pytest.mark.parametrize('backbone', [HRNet, SGHRNet])
def test_mmpose_hrnet_backbone_expectations(backbone):
    # W32 widths (what the shapes depend on), one block and module per stage
    # to keep the test fast
    extra = _extra(blocks=1, modules=(1, 1, 1))
    model = backbone(extra, in_channels=3)
    feat = model(torch.randn(2, 3, 224, 224))
    assert isinstance(feat, tuple)
    assert len(feat) == 1
    assert feat[-1].shape == (2, 32, 56, 56)

    # zero initialization of residual
    model = backbone(extra, in_channels=3, zero_init_residual=True)
    model.init_weights()
    for m in model.modules():
        if isinstance(m, Bottleneck):
            assert torch.equal(m.norm3.weight, torch.zeros_like(
                m.norm3.weight))
            assert torch.equal(m.norm3.bias, torch.zeros_like(m.norm3.bias))
    model.train()
    feat = model(torch.randn(2, 3, 224, 224))
    assert isinstance(feat, tuple)
    assert feat[-1].shape == (2, 32, 56, 56)

    # the first three stages frozen
    frozen_stages = 3
    model = backbone(extra, in_channels=3, frozen_stages=frozen_stages)
    model.init_weights()
    model.train()
    assert not model.norm1.training and not model.norm2.training
    for layer in [model.conv1, model.norm1, model.conv2, model.norm2]:
        assert not any(p.requires_grad for p in layer.parameters())
    for i in range(1, frozen_stages + 1):
        layers = [getattr(model, 'layer1' if i == 1 else f'stage{i}')]
        if i < 4:
            layers.append(getattr(model, f'transition{i}'))
        for layer in layers:
            for mod in layer.modules():
                if isinstance(mod, _BatchNorm):
                    assert not mod.training
            assert not any(p.requires_grad for p in layer.parameters())
    # stage 4 trains
    assert all(p.requires_grad for p in model.stage4.parameters())
    assert model.stage4.training


def test_frozen_stages_freeze_their_sgms():
    for frozen, trainable in [(-1, 4), (1, 4), (2, 3), (3, 2), (4, 0)]:
        sg = SGHRNet(**TINY, frozen_stages=frozen).train()
        # SGMs of stages 2, 3, 4 and the final one (stage 4)
        states = [(all(p.requires_grad for p in m.parameters()), m.training)
                  for m in _sgms(sg)]
        assert states == [(False, False)] * (4 - trainable) + \
            [(True, True)] * trainable, frozen


@pytest.mark.parametrize('multiscale_output', [False, True])
def test_same_outputs_as_hrnet(multiscale_output):
    """Same length and shapes as HRNet for the same ``extra``; with all maps
    1 the same values; otherwise the first feature is the un-guided one times
    the final map."""
    extra = _extra(c=4, blocks=1, modules=(2, 2, 2),
                   multiscale_output=multiscale_output)
    hr, sg = _hrnet_twin(extra)
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        ref = hr(x)
        out = sg(x)
    assert type(ref) is tuple and isinstance(out, SGHRNetOutput)
    assert len(out) == len(ref) == (4 if multiscale_output else 1)
    assert [f.shape for f in out] == [f.shape for f in ref]
    assert out.seg_logits.shape == (2, 4, 16, 16)

    # first feature = (fused stage-4 HR feature) * final map
    captured = []
    sg.final_sgm.register_forward_pre_hook(
        lambda m, args: captured.append(args[0]))
    with torch.no_grad():
        out = sg(x)
    torch.testing.assert_close(
        out[0], captured[0] * torch.sigmoid(out.seg_logits[:, 3:]))

    for sgm in _sgms(sg):
        _set_map(sgm, 100.)  # sigmoid(100) == 1 in float32
    with torch.no_grad():
        out = sg(x)
    assert torch.equal(out.seg_maps, torch.ones_like(out.seg_maps))
    for a, b in zip(out, ref):
        assert torch.equal(a, b)


def test_output_tuple_keeps_maps_through_copies():
    sg = SGHRNet(**TINY).eval()
    with torch.no_grad():
        out = sg(torch.rand(1, 3, 64, 64))
    for twin in (copy.copy(out), copy.deepcopy(out),
                 pickle.loads(pickle.dumps(out))):
        assert isinstance(twin, SGHRNetOutput) and len(twin) == 1
        assert torch.equal(twin[0], out[0])
        assert torch.equal(twin.seg_logits, out.seg_logits)
    # slices are plain tuples, as HRNet's
    assert type(out[:1]) is tuple


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
    # mid_channels=4 (README, "Measured cost"): 4 * (9*32*4 + 2*4 + 4 + 1)
    small = SGHRNet(_extra(), sgm_cfg=dict(mid_channels=4))
    assert _n_params(small) - _n_params(hr) == 4660


def test_maps_in_unit_range_and_gradients():
    model = MODELS.build(dict(type='SGHRNet', **TINY)).train()
    out = model(torch.rand(2, 3, 64, 64))
    assert len(out) == 1 and out[0].shape == (2, 4, 16, 16)
    seg_maps = out.seg_maps
    assert seg_maps.shape == (2, 4, 16, 16)
    assert seg_maps.min() >= 0 and seg_maps.max() <= 1
    # gradient reaches every SGM through its map
    out.seg_logits.sum().backward()
    for sgm in _sgms(model):
        assert sgm.seg_conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('idx', [0, 1, 2])
def test_stage_sgm_sits_in_the_last_module_before_fusion(idx):
    """Sec. 3.3: the map is multiplied into the high-resolution branch of the
    stage, then the branches are fused. With two HR modules per stage the SGM
    must guide the *last* module's branch: its map is computed from that
    branch's output, and a zero map zeroes what the last fusion receives
    from the high-resolution branch. (Multiscale output, so that stage 4's
    last fusion also has a downsampling path for the branch to hook.)"""
    torch.manual_seed(0)
    sg = SGHRNet(
        _extra(c=4, blocks=1, modules=(2, 2, 2), multiscale_output=True),
        init_cfg=None).eval()
    stage = getattr(sg, sg.guided_stages[idx])
    assert len(stage) == 2
    branch = stage[-1].branches[0]
    branch_inputs, fused_inputs = [], []
    branch.register_forward_pre_hook(
        lambda m, args: branch_inputs.append(args[0]))
    # the HR branch as seen by the fusion (downsampled into branch 1)
    stage[-1].fuse_layers[1][0].register_forward_pre_hook(
        lambda m, args: fused_inputs.append(args[0]))
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = sg(x)
        # the branch itself, without the hooks
        hr_out = nn.Sequential.forward(branch, branch_inputs[0])
        guided, logits = sg.stage_sgms[idx](hr_out)
    torch.testing.assert_close(out.seg_logits[:, idx:idx + 1], logits)
    torch.testing.assert_close(fused_inputs[0], guided)

    _set_map(sg.stage_sgms[idx], -200.)  # sigmoid(-200) == 0
    with torch.no_grad():
        sg(x)
    assert (fused_inputs[-1] == 0).all()


@pytest.mark.parametrize('idx', [0, 1, 2, 3])
def test_each_module_multiplies_its_branch(idx):
    """Eq. 4 with s = 0: a zero map after stage 2/3/4 kills the
    high-resolution input of the fusion (the output still gets the
    low-resolution branches); a zero final map zeroes the output."""
    torch.manual_seed(0)
    sg = SGHRNet(**TINY).eval()
    sgms = _sgms(sg)
    for sgm in sgms:
        _set_map(sgm, 100.)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = sg(x)[0]
        _set_map(sgms[idx], -200.)
        out = sg(x)
    assert (out.seg_maps[:, idx] == 0).all()
    assert not torch.equal(out[0], ref)
    if idx == 3:
        assert (out[0] == 0).all()
    else:
        assert (out[0] != 0).any()


def test_bilinear_fusion_upsampling():
    """Sec. 3.3: bilinear upsampling in the fusion via ``extra.upsample``;
    HRNet's nearest stays the default."""
    extra = _extra(c=4, blocks=1, modules=(1, 1, 1))
    nearest = SGHRNet(extra, init_cfg=None).eval()
    bilinear = SGHRNet(
        dict(extra, upsample=dict(mode='bilinear', align_corners=False)),
        init_cfg=None).eval()
    bilinear.load_state_dict(nearest.state_dict())

    def modes(model):
        return {m.mode for m in model.modules() if isinstance(m, nn.Upsample)}

    assert modes(nearest) == {'nearest'} and modes(bilinear) == {'bilinear'}
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(nearest(x)[0], bilinear(x)[0])


def test_deepcopy_uses_its_own_modules():
    sg = SGHRNet(**TINY).eval()
    twin = copy.deepcopy(sg)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = sg(x).seg_logits
        _set_map(twin.stage_sgms[0], -200.)
        assert torch.equal(sg(x).seg_logits, ref)
        assert (twin(x).seg_maps[:, 0] == 0).all()


def test_sgm_module_and_bad_widths():
    sgm = SegmentationGuidedModule(8)
    x = torch.rand(2, 8, 5, 6)
    y, logits = sgm(x)
    assert logits.shape == (2, 1, 5, 6)
    torch.testing.assert_close(y, x * torch.sigmoid(logits))
    extra = _extra(c=4, blocks=1, modules=(1, 1, 1))
    extra['stage3']['num_channels'] = (6, 8, 16)
    with pytest.raises(ValueError, match='keep its width'):
        SGHRNet(extra)
