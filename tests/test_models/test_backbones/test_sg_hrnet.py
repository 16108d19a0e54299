import copy
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmpose.models.backbones import HRNet
from mmpose.models.backbones.resnet import Bottleneck
from mmpose.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmpose_attn.models.backbones import SegmentationGuidedModule, SGHRNet


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
GUIDANCE = ('previous_stage', 'self_gating')


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


def _sgms(sg):
    return [*sg.stage_sgms, sg.final_sgm]


def _set_map(sgm, value_logit):
    """Make an SGM output the constant map sigmoid(value_logit)."""
    torch.nn.init.zeros_(sgm.seg_conv.weight)
    torch.nn.init.constant_(sgm.seg_conv.bias, value_logit)


def _hand_set(sgm):
    """An SGM whose logits are relu(channel 0 of its input): the 3x3 conv
    copies the channels (centre tap 1), BN is the identity in eval mode, and
    the 1x1 conv picks channel 0."""
    conv, bn = sgm.conv.conv, sgm.conv.bn
    with torch.no_grad():
        conv.weight.zero_()
        for c in range(conv.weight.shape[0]):
            conv.weight[c, c, 1, 1] = 1.
        bn.weight.fill_(1.), bn.bias.zero_()
        bn.running_mean.zero_(), bn.running_var.fill_(1. - bn.eps)
        sgm.seg_conv.weight.zero_()
        sgm.seg_conv.weight[0, 0] = 1.
        sgm.seg_conv.bias.zero_()


def _hrnet_twin(extra, seed=0, **kwargs):
    """An HRNet and an SGHRNet with the same HRNet weights."""
    torch.manual_seed(seed)
    hr = HRNet(extra, init_cfg=None)
    hr.eval()  # HRNet.train returns None
    sg = SGHRNet(extra, init_cfg=None, **kwargs).eval()
    sg.load_state_dict(hr.state_dict())  # strict: the SGMs are filled in
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


def test_no_hooks_and_no_call_state():
    sg = SGHRNet(**TINY).eval()
    x = torch.rand(1, 3, 64, 64)
    before = {k: v for k, v in vars(sg).items() if not k.startswith('_')}
    with torch.no_grad():
        first = sg.forward_with_maps(x)[1]
        second = sg.forward_with_maps(x)[1]
    assert torch.equal(first, second)
    for m in sg.modules():
        assert not (m._forward_hooks or m._forward_pre_hooks), m
    # the forward leaves no attribute behind
    assert {k: v for k, v in vars(sg).items()
            if not k.startswith('_')}.keys() == before.keys()


@pytest.mark.parametrize('guidance', GUIDANCE)
@pytest.mark.parametrize('multiscale_output', [False, True])
def test_same_outputs_as_hrnet(multiscale_output, guidance):
    """Same length and shapes as HRNet for the same ``extra``; with all maps
    1 the same values, in either reading; otherwise the first feature is the
    un-guided one times the final map."""
    extra = _extra(c=4, blocks=1, modules=(2, 2, 2),
                   multiscale_output=multiscale_output)
    hr, sg = _hrnet_twin(extra, guidance=guidance)
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        ref = hr(x)
        out = sg(x)
        feats, logits = sg.forward_with_maps(x)
    assert type(ref) is tuple and type(out) is tuple
    assert len(out) == len(ref) == (4 if multiscale_output else 1)
    assert [f.shape for f in out] == [f.shape for f in ref]
    assert logits.shape == (2, 4, 16, 16)
    for a, b in zip(feats, out):
        assert torch.equal(a, b)
    assert not torch.equal(out[0], ref[0])

    # first feature = (fused stage-4 HR feature) * final map
    _set_map(sg.final_sgm, 100.)
    with torch.no_grad():
        unguided = sg(x)[0]
    sg.final_sgm.load_state_dict(
        _hrnet_twin(extra, guidance=guidance)[1].final_sgm.state_dict())
    with torch.no_grad():
        feats, logits = sg.forward_with_maps(x)
    torch.testing.assert_close(feats[0],
                               unguided * torch.sigmoid(logits[:, 3:]))

    for sgm in _sgms(sg):
        _set_map(sgm, 100.)  # sigmoid(100) == 1 in float32
    with torch.no_grad():
        feats, logits = sg.forward_with_maps(x)
    assert torch.equal(torch.sigmoid(logits), torch.ones_like(logits))
    for a, b in zip(feats, ref):
        assert torch.equal(a, b)


@pytest.mark.parametrize('multiscale_output', [False, True])
def test_seg_logits_in_front_of_the_features(multiscale_output):
    """``with_seg_logits``: a plain tuple ``(seg_logits, *features)``;
    ``feats[-1]`` (what every MMPose head reads) is HRNet's last feature."""
    extra = _extra(c=4, blocks=1, modules=(1, 1, 1),
                   multiscale_output=multiscale_output)
    torch.manual_seed(0)
    plain = SGHRNet(extra, init_cfg=None).eval()
    with_maps = SGHRNet(extra, init_cfg=None, with_seg_logits=True).eval()
    with_maps.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 32)
    with torch.no_grad():
        feats = plain(x)
        out = with_maps(x)
        _, logits = plain.forward_with_maps(x)
    assert type(out) is tuple and len(out) == len(feats) + 1
    assert torch.equal(out[0], logits) and out[0].shape == (2, 4, 16, 8)
    for a, b in zip(out[1:], feats):
        assert torch.equal(a, b)
    # copies and slices stay plain tuples of tensors
    assert type(copy.deepcopy(out)) is tuple and type(out[1:]) is tuple


@pytest.mark.parametrize('idx', [0, 1, 2])
@pytest.mark.parametrize('guidance', GUIDANCE)
def test_which_tensor_each_reading_reads_and_multiplies(guidance, idx):
    """Sec. 3.3 against Sec. 3.2, with a hand-set SGM whose logits are
    relu(channel 0 of what it reads). In both readings the map multiplies
    the high-resolution branch output of the stage's *last* HR module, and
    the product is what that module's fusion receives. The map is computed
    from the stage's high-resolution *input* (the previous stage's output)
    with ``previous_stage``, and from the branch output itself with
    ``self_gating``. (Two HR modules per stage; multiscale output, so that
    stage 4's last fusion also downsamples the branch.)"""
    torch.manual_seed(0)
    sg = SGHRNet(
        _extra(c=4, blocks=1, modules=(2, 2, 2), multiscale_output=True),
        init_cfg=None, guidance=guidance).eval()
    _hand_set(sg.stage_sgms[idx])
    stage = getattr(sg, sg.guided_stages[idx])
    assert len(stage) == 2
    seen = {}

    def keep(name, get):
        # hooks of the test only (the model has none); they return None,
        # so they change nothing
        def hook(module, args, *out):
            seen.setdefault(name, get(args, *out))
        return hook

    stage[0].register_forward_pre_hook(
        keep('stage_input', lambda args: args[0][0]))
    stage[-1].branches[0].register_forward_pre_hook(
        keep('last_module_input', lambda args: args[0]))
    stage[-1].branches[0].register_forward_hook(
        keep('branch_output', lambda args, out: out))
    stage[-1].fuse_layers[1][0].register_forward_pre_hook(
        keep('fused_input', lambda args: args[0]))
    with torch.no_grad():
        _, logits = sg.forward_with_maps(torch.rand(1, 3, 64, 64))
    read = seen['stage_input' if guidance == 'previous_stage' else
                'branch_output']
    expected = torch.relu(read[:, :1])
    torch.testing.assert_close(logits[:, idx:idx + 1], expected)
    torch.testing.assert_close(seen['fused_input'],
                               seen['branch_output'] * torch.sigmoid(expected))
    # the readings differ on this input: the test tells them apart
    other = seen['branch_output' if guidance == 'previous_stage' else
                 'stage_input']
    assert not torch.allclose(torch.relu(other[:, :1]), expected)
    assert not torch.allclose(seen['last_module_input'], read)


def test_default_reading_is_the_papers():
    assert SGHRNet(**TINY).guidance == 'previous_stage'
    with pytest.raises(ValueError, match='model.backbone.guidance'):
        SGHRNet(**TINY, guidance='previous')


@pytest.mark.parametrize('guidance', GUIDANCE)
@pytest.mark.parametrize('idx', [0, 1, 2, 3])
def test_each_module_multiplies_its_branch(idx, guidance):
    """Eq. 4 with s = 0: a zero map after stage 2/3/4 kills the
    high-resolution input of the fusion (the output still gets the
    low-resolution branches); a zero final map zeroes the output."""
    torch.manual_seed(0)
    sg = SGHRNet(**TINY, guidance=guidance).eval()
    sgms = _sgms(sg)
    for sgm in sgms:
        _set_map(sgm, 100.)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = sg(x)[0]
        _set_map(sgms[idx], -200.)
        feats, logits = sg.forward_with_maps(x)
    assert (torch.sigmoid(logits[:, idx]) == 0).all()
    assert not torch.equal(feats[0], ref)
    if idx == 3:
        assert (feats[0] == 0).all()
    else:
        assert (feats[0] != 0).any()


def test_hrnet_checkpoints_load_strictly_apart_from_the_sgms(tmp_path):
    """MMPose HRNet-W32 weights (here: a state dict of MMPose's HRNet-W32,
    also inside a whole pose model) load with ``strict=True``; the SGMs
    keep their initialisation and are listed in a warning; any other
    mismatch is still an error."""
    from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint
    torch.manual_seed(0)
    hr = HRNet(_extra(), init_cfg=None)
    sg = SGHRNet(_extra(), init_cfg=None)
    sgm_before = {k: v.clone() for k, v in sg.state_dict().items()
                  if k.startswith(('stage_sgms.', 'final_sgm.'))}
    assert len(sgm_before) == 4 * 8  # conv, BN (5), seg conv (2)
    # print_log(logger='current') logs to the latest MMLogger instance
    logger = MMLogger.get_instance(f'test_sg_hrnet_ckpt_{id(sg)}')
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger.addHandler(handler)
    path = str(tmp_path / 'hrnet.pth')
    save_checkpoint({'state_dict': hr.state_dict()}, path)
    load_checkpoint(sg, path, strict=True)
    logger.removeHandler(handler)
    messages = [r.getMessage() for r in records if 'SGHRNet' in r.getMessage()]
    assert len(messages) == 1 and 'keep their initialisation' in messages[0]
    assert all(k in messages[0] for k in sgm_before)
    loaded = sg.state_dict()
    for k, v in hr.state_dict().items():
        assert torch.equal(loaded[k], v), k
    for k, v in sgm_before.items():
        assert torch.equal(loaded[k], v), k

    # a whole pose model: keys under 'backbone.'
    torch.manual_seed(0)
    tiny_hr = HRNet(TINY['extra'], init_cfg=None)
    pose = nn.Module()
    pose.backbone = SGHRNet(**TINY)
    pose.load_state_dict(
        {f'backbone.{k}': v for k, v in tiny_hr.state_dict().items()})

    # strict about everything else
    broken = dict(tiny_hr.state_dict())
    del broken['stage4.1.fuse_layers.0.1.0.weight']
    with pytest.raises(RuntimeError, match='stage4.1.fuse_layers.0.1.0'):
        SGHRNet(**TINY).load_state_dict(broken)
    broken = dict(tiny_hr.state_dict(), extra_key=torch.zeros(1))
    with pytest.raises(RuntimeError, match='extra_key'):
        SGHRNet(**TINY).load_state_dict(broken)
    # an SG-HRNet checkpoint missing one SGM entry is not an HRNet one
    partial = dict(pose.backbone.state_dict())
    del partial['final_sgm.seg_conv.bias']
    with pytest.raises(RuntimeError, match='final_sgm.seg_conv.bias'):
        SGHRNet(**TINY).load_state_dict(partial)


def _cpu_broadcast(tensors, devices, detach=False):
    """torch.nn.parallel.replicate's broadcast, on the CPU: one copy per
    replica (differentiable unless ``detach``, as ``Broadcast``)."""
    return [[t.detach().clone() if detach else t.clone() for t in tensors]
            for _ in devices]


@pytest.mark.parametrize('guidance', GUIDANCE)
def test_data_parallel_replicas_give_the_single_model_output(
        monkeypatch, guidance):
    """nn.DataParallel's steps on two CPU replicas: torch's own
    ``replicate`` (its CUDA broadcast swapped for CPU copies), the replicas
    run concurrently in threads on the two halves of the batch, outputs
    concatenated. Same features, maps and gradients as the single model."""
    import importlib
    import threading

    # the module (torch.nn.parallel.replicate is also the function's name)
    replicate_module = importlib.import_module('torch.nn.parallel.replicate')
    monkeypatch.setattr(replicate_module, '_broadcast_coalesced_reshape',
                        _cpu_broadcast)
    torch.manual_seed(0)
    sg = SGHRNet(**TINY, guidance=guidance, with_seg_logits=True).eval()
    x = torch.rand(4, 3, 64, 32)
    ref = sg(x)
    ref_grads = torch.autograd.grad(
        sum(o.square().sum() for o in ref), list(sg.parameters()))

    # two replica indices; the patched broadcast keeps both on the CPU
    replicas = replicate_module.replicate(sg, [0, 1])
    assert all(r._is_replica for r in replicas)
    outputs = [None, None]

    def run(i):
        outputs[i] = replicas[i](x[2 * i:2 * i + 2])

    threads = [threading.Thread(target=run, args=(i, )) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gathered = tuple(torch.cat(parts) for parts in zip(*outputs))
    assert len(gathered) == len(ref) == 2
    for a, b in zip(gathered, ref):
        torch.testing.assert_close(a, b)
    grads = torch.autograd.grad(
        sum(o.square().sum() for o in gathered), list(sg.parameters()))
    for (name, _), a, b in zip(sg.named_parameters(), grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize('with_seg_logits', [False, True])
def test_jit_trace(with_seg_logits):
    torch.manual_seed(0)
    sg = SGHRNet(**TINY, with_seg_logits=with_seg_logits).eval()
    x, other = torch.rand(2, 1, 3, 64, 32)
    with torch.no_grad():
        traced = torch.jit.trace(sg, x)
        ref = sg(other)
        out = traced(other)
    assert len(out) == len(ref) == (2 if with_seg_logits else 1)
    for a, b in zip(out, ref):
        torch.testing.assert_close(a, b)


def test_torch_export():
    torch.manual_seed(0)
    sg = SGHRNet(**TINY, with_seg_logits=True).eval()
    x, other = torch.rand(2, 1, 3, 64, 32)
    with torch.no_grad():
        exported = torch.export.export(sg, (x, ))
        ref = sg(other)
        out = exported.module()(other)
    assert len(out) == len(ref) == 2
    for a, b in zip(out, ref):
        torch.testing.assert_close(a, b)


def test_w32_params_within_0p1m_of_hrnet():
    sg = SGHRNet(_extra())
    hr = HRNet(_extra())
    diff = _n_params(sg) - _n_params(hr)
    # 4 SGMs: 3x3 conv 32->32 (no bias, BN) + 1x1 conv 32->1 with bias
    assert diff == 4 * (9 * 32 * 32 + 2 * 32 + 32 + 1) == 37252
    assert diff < 0.1e6
    # the same in either reading: the map reads a 32-channel tensor
    assert _n_params(SGHRNet(_extra(), guidance='self_gating')) == \
        _n_params(sg)
    # mid_channels=4 (README, "Measured cost"): 4 * (9*32*4 + 2*4 + 4 + 1)
    small = SGHRNet(_extra(), sgm_cfg=dict(mid_channels=4))
    assert _n_params(small) - _n_params(hr) == 4660


def test_maps_in_unit_range_and_gradients():
    model = MODELS.build(
        dict(type='SGHRNet', with_seg_logits=True, **TINY)).train()
    seg_logits, feat = model(torch.rand(2, 3, 64, 64))
    assert feat.shape == (2, 4, 16, 16)
    seg_maps = torch.sigmoid(seg_logits)
    assert seg_maps.shape == (2, 4, 16, 16)
    assert seg_maps.min() >= 0 and seg_maps.max() <= 1
    # gradient reaches every SGM through its map
    seg_logits.sum().backward()
    for sgm in _sgms(model):
        assert sgm.seg_conv.weight.grad.abs().sum() > 0


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
        ref = sg.forward_with_maps(x)[1]
        _set_map(twin.stage_sgms[0], -200.)
        assert torch.equal(sg.forward_with_maps(x)[1], ref)
        assert (torch.sigmoid(twin.forward_with_maps(x)[1][:, 0]) == 0).all()


def test_sgm_module_and_bad_widths():
    sgm = SegmentationGuidedModule(8)
    x, source = torch.rand(2, 2, 8, 5, 6)
    y, logits = sgm(x)
    assert logits.shape == (2, 1, 5, 6)
    torch.testing.assert_close(y, x * torch.sigmoid(logits))
    y, logits = sgm(x, source)
    torch.testing.assert_close(logits, sgm.seg_conv(sgm.conv(source)))
    torch.testing.assert_close(y, x * torch.sigmoid(logits))
    extra = _extra(c=4, blocks=1, modules=(1, 1, 1))
    extra['stage3']['num_channels'] = (6, 8, 16)
    with pytest.raises(ValueError, match='keep its width'):
        SGHRNet(extra)
