"""Each input-size rule against the real backbone: a size the rule accepts
runs with an output of exactly size / 4; a size it refuses either crashes
the backbone or gives an output of another scale."""
import pytest
import torch
from mmpose.models.backbones import HourglassNet, HRNet, ResNet

from mmpose_attn.models.backbones import DilatedHourglassNet, RFMHourglassNet
from mmpose_attn.models.utils.input_size import (check_input_size,
                                                 nearest_valid_sizes,
                                                 required_divisor)

HRNET_TINY = dict(
    stage1=dict(
        num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ),
        num_channels=(4, )),
    stage2=dict(
        num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1),
        num_channels=(4, 8)),
    stage3=dict(
        num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1),
        num_channels=(4, 8, 16)),
    stage4=dict(
        num_modules=1, num_branches=4, block='BASIC',
        num_blocks=(1, 1, 1, 1), num_channels=(4, 8, 16, 32)))


def backbones():
    return {
        'dilated_hourglass': (DilatedHourglassNet(
            num_stacks=1, depth=3, num_downsamples=2, feat_channels=8,
            stem_channels=(4, 8)), 16, lambda out: out[-1]),
        'rfm_hourglass': (RFMHourglassNet(
            num_stacks=1, depth=3, num_downsamples=3, feat_channels=8,
            stem_channels=(4, 8), level_channels=None, se_ratio=None), 32,
                          lambda out: out[-1]),
        'mmpose_hourglass': (HourglassNet(
            downsample_times=2, num_stacks=1, stage_channels=(256, 8, 8),
            stage_blocks=(1, 1, 1), feat_channel=8), 16, lambda out: out[-1]),
        'hrnet': (HRNet(extra=HRNET_TINY), 32, lambda out: out[0]),
        # ResNet's output is at 1/32 (no deconvolution here)
        'resnet': (ResNet(18), 32, lambda out: out[-1]),
    }


@pytest.mark.parametrize('name', list(backbones()))
def test_rule_matches_the_backbone(name):
    backbone, divisor, output = backbones()[name]
    backbone.eval()
    assert required_divisor(backbone)[0] == divisor
    out_stride = 32 if name == 'resnet' else 4
    valid = 2 * divisor
    check_input_size(backbone, (valid, valid), 'input_size')
    with torch.no_grad():
        out = output(backbone(torch.rand(1, 3, valid, valid + divisor)))
    assert out.shape[-2:] == (valid // out_stride,
                              (valid + divisor) // out_stride)
    for bad in (valid + divisor // 2, valid + 1, valid - 1):
        with pytest.raises(ValueError, match='multiple of'):
            check_input_size(backbone, (bad, valid), 'input_size')
        try:
            with torch.no_grad():
                out = output(backbone(torch.rand(1, 3, valid, bad)))
        except RuntimeError:
            continue  # crashes, as 72x72 did
        assert out.shape[-1] * out_stride != bad  # another scale, silently


def test_message_names_setting_and_nearest_sizes():
    backbone = backbones()['dilated_hourglass'][0]
    with pytest.raises(ValueError) as err:
        check_input_size(backbone, (65, 63), 'TopdownAffine.input_size')
    assert str(err.value) == (
        'TopdownAffine.input_size=(65, 63): DilatedHourglassNet needs each '
        'side of its input to be a multiple of 16 (a stem of /4 and 2 2x '
        'poolings per hourglass (num_downsamples)); nearest valid sizes: '
        '(64, 48) or (80, 64)')
    assert nearest_valid_sizes((8, 40), 16) == ((16, 32), (16, 48))
    assert required_divisor(torch.nn.Conv2d(3, 3, 1)) is None
