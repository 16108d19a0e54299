import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData

from mmpose.codecs import SPR
from mmpose.models.heads import DEKRHead
from mmpose.models.heads.hybrid_heads.dekr_head import AdaptiveActivationBlock
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from mmpose_attn.models.heads.subspace_attention import SubspaceAttention

IN_CHANNELS = 24


def _head(**kwargs):
    return MODELS.build(
        dict(type='SAMKRHead', in_channels=IN_CHANNELS, num_keypoints=17,
             **kwargs))


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_without_attention_is_dekr_head():
    """attention_cfg=None, c=15, two adaptive blocks: DEKRHead exactly, in
    parameters, buffers, module types and outputs."""
    torch.manual_seed(0)
    dekr = DEKRHead(in_channels=IN_CHANNELS, num_keypoints=17)
    samkr = _head(
        attention_cfg=None,
        num_displacement_filters_per_keypoint=15,
        num_adaptive_blocks=2)
    assert _shapes(samkr) == _shapes(dekr)
    assert [type(m) for m in samkr.modules()][1:] == \
        [type(m) for m in dekr.modules()][1:]
    dekr.init_weights()
    samkr.load_state_dict(dekr.state_dict(), strict=True)
    dekr.eval(), samkr.eval()
    x = torch.randn(1, IN_CHANNELS, 16, 16)
    with torch.no_grad():
        for a, b in zip(samkr.forward((x, )), dekr.forward((x, ))):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_default_is_paper_layout_and_non_attention_parts_match_dekr():
    samkr = _head()  # 8_SAMKR_16: c=16, g=8, one adaptive block
    layers = list(samkr.displacement_conv_layers)
    assert [type(m) for m in layers[1:]] == [
        AdaptiveActivationBlock, SubspaceAttention, torch.nn.Conv2d
    ]
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
    assert head.subspace_attention.pointwise_conv.conv.weight.grad is not None


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
