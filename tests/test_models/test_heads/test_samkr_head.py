import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData

from mmpose.codecs import SPR
from mmpose.models.heads import DEKRHead
from mmpose.models.heads.hybrid_heads import dekr_head
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from mmpose_attn.models.heads.samkr_head import AdaptiveActivationBlock
from mmpose_attn.models.heads.subspace_attention import SubspaceAttention
from mmpose_attn.models.utils import DeformConv2d

IN_CHANNELS = 24


def _head(**kwargs):
    return MODELS.build(
        dict(type='SAMKRHead', in_channels=IN_CHANNELS, num_keypoints=17,
             **kwargs))


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _offsets_of(block, x):
    """The offsets (B, 18g, H, W) an adaptive block feeds its deformable
    convolution for input ``x``."""
    seen = []
    handle = block.adapt_conv.register_forward_pre_hook(
        lambda module, args: seen.append(args[1].detach()))
    with torch.no_grad():
        block(x)
    handle.remove()
    return seen[0]


@pytest.mark.parametrize('backend,tol', [('auto', 0), ('torchvision', 1e-5)])
def test_without_attention_is_dekr_head(backend, tol):
    """attention_cfg=None, c=15, two adaptive blocks: DEKRHead, in
    parameters, buffers, module types (ours subclass MMPose's block and
    mmcv's DeformConv2d) and outputs: bit-exact on mmcv's CPU kernel (what
    'auto' picks on the CPU), to ``tol`` relative on torchvision's (a
    GPU's). DEKR's init (every conv N(0, 0.001)) makes the offsets ~0.01 px
    and the outputs ~1e-4, where any kernel agrees to 1e-5 whatever it does
    with the offsets: the weights are redrawn so that the offsets move the
    sampling points by pixels, off the integer grid."""
    torch.manual_seed(0)
    dekr = DEKRHead(in_channels=IN_CHANNELS, num_keypoints=17)
    samkr = _head(
        attention_cfg=None,
        num_displacement_filters_per_keypoint=15,
        num_adaptive_blocks=2,
        deform_conv_backend=backend)
    assert _shapes(samkr) == _shapes(dekr)
    pairs = list(zip(samkr.modules(), dekr.modules()))[1:]
    assert len(pairs) == len(list(dekr.modules())) - 1
    assert all(isinstance(a, type(b)) for a, b in pairs)
    assert sum(isinstance(a, DeformConv2d) for a, _ in pairs) == 2
    dekr.init_weights()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in dekr.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) / p[0].numel()**0.5)
    _random_bn_stats(dekr, seed=2)
    samkr.load_state_dict(dekr.state_dict(), strict=True)
    dekr.eval(), samkr.eval()
    x = torch.randn(1, IN_CHANNELS, 16, 16)
    first_block = dekr.displacement_conv_layers[1]
    offsets = _offsets_of(
        first_block, dekr.displacement_conv_layers[0](x).detach())
    assert offsets.abs().mean() > 0.5  # pixels, not hundredths
    assert (offsets - offsets.round()).abs().mean() > 0.1  # off the grid
    with torch.no_grad():
        for a, b in zip(samkr.forward((x, )), dekr.forward((x, ))):
            assert b.abs().mean() > 0.1
            torch.testing.assert_close(
                a, b, rtol=tol, atol=tol * b.abs().max().item())


def test_default_is_paper_layout_and_non_attention_parts_match_dekr():
    samkr = _head()  # 8_SAMKR_16: c=16, g=8, one adaptive block
    layers = list(samkr.displacement_conv_layers)
    assert [type(m) for m in layers[1:]] == [
        AdaptiveActivationBlock, SubspaceAttention, torch.nn.Conv2d
    ]
    assert isinstance(layers[1], dekr_head.AdaptiveActivationBlock)
    assert type(layers[1].adapt_conv) is DeformConv2d
    assert layers[0].conv.out_channels == 272  # k x c
    assert layers[1].groups == 17
    sam = samkr.subspace_attention
    assert (sam.num_branches, sam.num_subspaces, sam.subspace_channels) == \
        (17, 8, 2)
    assert layers[3].groups == 17 and layers[3].out_channels == 34

    # Removing the attention leaves DEKRHead with c=16 and one adaptive block
    dekr = DEKRHead(IN_CHANNELS, 17, num_displacement_filters_per_keypoint=16)
    del dekr.displacement_conv_layers[2]  # DEKR's second adaptive block
    non_attention = {
        k.replace('displacement_conv_layers.3.',
                  'displacement_conv_layers.2.'): v
        for k, v in _shapes(samkr).items()
        if not k.startswith('displacement_conv_layers.2.')
    }
    assert non_attention == _shapes(dekr)


def test_displacement_branch_parameter_count_by_hand():
    k, c, g, in_ch = 17, 16, 8, IN_CHANNELS
    m = k * c
    expected = (
        in_ch * m + 2 * m  # 1x1 conv (bias-free) + BN
        + 6 * k * c * 9 + 6 * k  # adaptive block: grouped affine conv
        + m * c * 9 + 2 * m  # grouped deformable conv (bias-free) + BN
        + m + 2 * m + m + 2 * k * g  # subspace attention: DW, BN, PW, BN
        + 2 * k * c + 2 * k)  # grouped 1x1 conv to 2 offsets / keypoint
    got = sum(p.numel() for p in _head().displacement_conv_layers.parameters())
    assert got == expected


@pytest.mark.parametrize(
    'kwargs,branches,subspaces,s',
    [
        (dict(), 17, 8, 2),  # 8_SAMKR_16
        (dict(num_subspaces=1), 17, 1, 16),  # Table 1 row 2
        (dict(num_subspaces=16), 17, 16, 1),  # Table 1 row 3
        (dict(num_subspaces=12, num_displacement_filters_per_keypoint=24), 17,
         12, 2),  # 12_SAMKR_24
        (dict(disentangled=False), 1, 8, 34),  # Table 1 row 1: c = m
    ])
def test_variants_and_output_shapes(kwargs, branches, subspaces, s):
    head = _head(**kwargs).eval()
    sam = head.subspace_attention
    assert (sam.num_branches, sam.num_subspaces, sam.subspace_channels) == \
        (branches, subspaces, s)
    x = torch.randn(2, IN_CHANNELS, 12, 20)
    with torch.no_grad():
        heatmaps, displacements = head.forward((x, ))
    assert heatmaps.shape == (2, 18, 12, 20)  # K keypoints + 1 center
    assert displacements.shape == (2, 34, 12, 20)


def test_shared_branch_is_not_grouped():
    layers = list(_head(disentangled=False).displacement_conv_layers)
    assert layers[1].groups == 1 and layers[3].groups == 1


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match='split evenly'):
        _head(num_subspaces=3)  # c=16 is not a multiple of g=3
    with pytest.raises(ValueError, match='num_adaptive_blocks'):
        _head(num_adaptive_blocks=-1)


def test_loss_backward():
    head = _head(num_heatmap_filters=8).train()
    codec = SPR(input_size=(64, 64), heatmap_size=(16, 16), sigma=(4, 2),
                generate_keypoint_heatmaps=True)
    rng = np.random.default_rng(0)
    kpts = rng.uniform(8, 56, size=(2, 17, 2)).astype(np.float32)
    encoded = codec.encode(kpts, np.ones((2, 17), np.float32))

    sample = PoseDataSample(
        gt_fields=PixelData(
            **{k: torch.from_numpy(v)
               for k, v in encoded.items()}))
    x = torch.randn(1, IN_CHANNELS, 16, 16)
    losses = head.loss((x, ), [sample])
    assert set(losses) == {'loss/heatmap', 'loss/displacement'}
    sum(losses.values()).backward()
    # a gradient that exists is not enough (a zeroed attention has one)
    for name, p in head.subspace_attention.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_decode_sample_annotations(samples_root, config_root):
    """SAMKRHead.decode (DEKR's grouping + NMS) on targets encoded from the
    real COCO sample annotations gives back every annotated person."""
    ann = json.load(open(osp.join(samples_root, 'coco', 'test_coco.json')))
    cfg = Config.fromfile(
        osp.join(config_root, 'samkr',
                 'samkr_hrnet-tiny_1xb2-2e_coco-128x128.py'))
    cfg.model.head.update(in_channels=IN_CHANNELS, init_cfg=None)
    checked = 0
    for img in ann['images']:
        persons = [
            a for a in ann['annotations']
            if a['image_id'] == img['id'] and a['num_keypoints'] >= 8
        ]
        if not persons:
            continue
        w, h = img['width'], img['height']
        size = (w // 4 * 4, h // 4 * 4)
        codec = dict(cfg.codec, input_size=size,
                     heatmap_size=(size[0] // 4, size[1] // 4))
        head = MODELS.build(dict(cfg.model.head, decoder=codec))
        kpts = np.array([p['keypoints'] for p in persons],
                        np.float32).reshape(len(persons), 17, 3)
        vis = (kpts[..., 2] > 0).astype(np.float32)
        encoded = head.decoder.encode(kpts[..., :2], vis)
        preds = head.decode([torch.from_numpy(encoded['heatmaps'])[None]],
                            [torch.from_numpy(encoded['displacements'])[None]],
                            test_cfg=dict(nms_dist_thr=0.05))[0]
        keep = vis.astype(bool)
        for person, v in zip(kpts, keep):
            errors = np.linalg.norm(
                preds.keypoints[:, v] - person[None, v, :2], axis=-1)
            # every annotated person is found, to within float error
            assert errors.mean(axis=1).min() < 1e-3
        checked += len(persons)
    assert checked >= 3


def _random_bn_stats(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen))
            m.running_var.copy_(
                torch.rand(m.num_features, generator=gen) + 0.5)
    return module


@pytest.mark.parametrize('disentangled', [True, False])
def test_keypoint_branches_are_independent(disentangled):
    """Perturbing keypoint i's c channels after the first 1x1 conv (Eq. 1)
    changes offsets [2i, 2i+1] only, through the adaptive convolution, the
    subspace attention and the output conv; with one shared branch (Table 1
    row 1) every offset changes."""
    torch.manual_seed(0)
    head = _random_bn_stats(_head(disentangled=disentangled)).eval()
    layers = list(head.displacement_conv_layers)
    c, i = 16, 5

    def branch(feats):
        for layer in layers[1:]:
            feats = layer(feats)
        return feats

    with torch.no_grad():
        feats = layers[0](torch.randn(2, IN_CHANNELS, 12, 12))
        perturbed = feats.clone()
        perturbed[:, i * c:(i + 1) * c] += torch.randn(2, c, 12, 12)
        change = (branch(perturbed) - branch(feats)).abs().amax(dim=(0, 2, 3))
    changed = (change > 1e-6).nonzero().flatten().tolist()
    if disentangled:
        assert changed == [2 * i, 2 * i + 1]
    else:
        assert changed == list(range(34))


def test_loss_by_hand_on_a_tiny_input():
    """One keypoint, a 1x2 heatmap: outputs pinned by the final convs'
    biases, targets and weights written out, both losses computed by hand
    (weight-adaptive heatmap loss with DEKR's pixel weights; DEKR's smooth L1
    displacement loss, beta 1/9, averaged over positively weighted elements,
    weight 0.002 as in the configs)."""
    head = MODELS.build(
        dict(
            type='SAMKRHead',
            in_channels=4,
            num_keypoints=1,
            num_heatmap_filters=4,
            heatmap_loss=dict(
                type='WeightAdaptiveHeatmapLoss', use_target_weight=True),
            displacement_loss=dict(
                type='SoftWeightSmoothL1Loss',
                use_target_weight=True,
                supervise_empty=False,
                beta=1 / 9,
                loss_weight=0.002))).eval()
    for conv, bias in ((head.heatmap_conv_layers[-1], [0.5, 0.2]),
                       (head.displacement_conv_layers[-1], [1.0, -2.0])):
        torch.nn.init.zeros_(conv.weight)
        conv.bias.data = torch.tensor(bias)
    x = torch.randn(1, 4, 1, 2)
    heatmaps, displacements = head.forward((x, ))
    torch.testing.assert_close(heatmaps,
                               torch.tensor([[[[.5, .5]], [[.2, .2]]]]))
    # channel 0: the keypoint, channel 1: the root (MMPose 1.x order)
    fields = dict(
        heatmaps=torch.tensor([[[1., 0.]], [[0., 1.]]]),
        heatmap_weights=torch.tensor([[[1., .1]], [[1., 1.]]]),
        displacements=torch.tensor([[[1.05, 0.]], [[0., 0.]]]),
        displacement_weights=torch.tensor([[[2., 0.]], [[2., 0.]]]))
    losses = head.loss((x, ), [PoseDataSample(gt_fields=PixelData(**fields))])

    # W = H^0.01 |1 - P| + (1 - H^0.01) |P| is |1 - P| at H=1, |P| at H=0
    heatmap = (.5 * .5**2 * 1 + .5 * .5**2 * .1  # keypoint: H = 1, 0
               + .2 * .2**2 * 1 + .8 * .8**2 * 1) / 4  # root: H = 0, 1
    # smooth L1: 0.5 d^2 / beta below beta = 1/9, d - beta / 2 above
    displacement = (2 * .5 * .05**2 * 9 + 2 * (2. - 1 / 18)) / 2 * 0.002
    assert math.isclose(heatmap, 0.164375)
    torch.testing.assert_close(losses['loss/heatmap'], torch.tensor(heatmap))
    torch.testing.assert_close(losses['loss/displacement'],
                               torch.tensor(displacement))


def _rescore_cfg(init_cfg):
    return dict(in_channels=74, norm_indexes=(5, 6), init_cfg=init_cfg)


def test_rescoring_off_without_weights_says_so(tmp_path):
    from mmengine.logging import MMLogger
    log_file = tmp_path / 'log.txt'
    logger = MMLogger.get_instance('samkr_rescore_off', log_file=str(log_file))
    head = _head(rescore_cfg=_rescore_cfg(None))
    # the net stays (DEKR's parameters and state dict), unused
    assert head.rescore_net is not None and not head.rescore_on
    for handler in logger.handlers:
        handler.flush()
    assert 'rescoring is off' in log_file.read_text()
    # DEKR's off-the-shelf nets (URLs) are built, loaded by init_weights
    url = dict(type='Pretrained', checkpoint='https://example.com/r.pth')
    assert _head(rescore_cfg=_rescore_cfg(url)).rescore_on


def test_local_rescore_weights_load_and_win_over_checkpoints(tmp_path):
    net = dekr_head.RescoreNet(74, (5, 6))
    path = str(tmp_path / 'rescore_net.pth')
    torch.save({'state_dict': net.state_dict()}, path)
    head = _head(rescore_cfg=_rescore_cfg(
        dict(type='Pretrained', checkpoint=path)))
    for k, v in net.state_dict().items():
        torch.testing.assert_close(head.rescore_net.state_dict()[k], v)
    # a model checkpoint carrying other rescore weights: the file wins
    stale = head.state_dict()  # keeps its version metadata
    for k in stale:
        if k.startswith('rescore_net.'):
            stale[k] = stale[k] + 1
    head.load_state_dict(stale)
    torch.testing.assert_close(head.rescore_net.l1.weight, net.l1.weight)

    with pytest.raises(FileNotFoundError, match='train_rescore_net'):
        _head(rescore_cfg=_rescore_cfg(
            dict(type='Pretrained', checkpoint=str(tmp_path / 'none.pth'))))
