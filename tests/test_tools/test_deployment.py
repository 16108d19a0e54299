"""ONNX export of every paper's tiny model and its baseline: standard
operators only, ONNX Runtime matches PyTorch on a real sample image (outputs
within 1e-4, keypoints within 0.5 px at batch 1 and 4), and the tools' errors
name what is wrong."""
import os.path as osp

import numpy as np
import onnx
import pytest
import torch

from mmpose_attn.tools.deployment import core, onnx_inference, pytorch2onnx
from mmpose_attn.tools.deployment.benchmark_onnx import PAIRS, repo_path

TINY = [(paper, role) for paper in PAIRS['tiny']
        for role in ('paper', 'baseline')]


def _tiny(paper, role, seed=0):
    config, base_config, base_options = PAIRS['tiny'][paper]
    if role == 'baseline':
        config, options = base_config, base_options
    else:
        options = None
    torch.manual_seed(seed)
    cfg = core.load_config(repo_path(config), options)
    model = core.load_model(cfg)
    for _, conv in core.deform_convs(model):
        conv.backend = 'grid_sample'  # eager speed; all backends agree
    return model


@pytest.mark.parametrize('paper,role', TINY)
def test_tiny_export_matches_pytorch(paper, role, tmp_path):
    model = _tiny(paper, role)
    path = str(tmp_path / 'model.onnx')
    info = core.export(model, path)
    exported = onnx.load(path)
    bottomup = paper == 'SAMKR'
    # standard operators only, DEKR's/SAMKR's deformable conv as ONNX's own
    assert core.non_standard_ops(exported) == []
    assert {o.domain for o in exported.opset_import} <= {'', 'ai.onnx'}
    opset = {o.domain: o.version for o in exported.opset_import}['']
    assert opset == (19 if bottomup else 17)
    assert ('DeformConv' in info['ops']) == bottomup
    # named input and outputs, dynamic batch (and size, bottom-up)
    assert [i.name for i in exported.graph.input] == ['input']
    names = ['heatmaps', 'displacements'] if bottomup else ['heatmaps']
    assert [o.name for o in exported.graph.output] == names
    dims = [d.dim_param or d.dim_value
            for d in exported.graph.input[0].type.tensor_type.shape.dim]
    h, w = core.input_size_of(model)
    assert dims == (['batch', 3, 'height', 'width']
                    if bottomup else ['batch', 3, h, w])

    report = core.verify(model, path)
    assert set(report['batches']) == {1, 4}
    assert report['output'] <= core.OUTPUT_TOLERANCE, report
    assert report['keypoints'] <= core.KEYPOINT_TOLERANCE_PX, report
    assert core.verify_passed(report)


def test_keypoint_distance():
    a = np.array([[[0., 0.], [10., 10.]], [[50., 50.], [60., 60.]]])
    b = a[::-1].copy()  # the same people in the other order
    assert core.keypoint_distance(a, b) == 0
    b[0, 1, 0] += 0.75  # person 1 (second in a), keypoint 1, x
    assert core.keypoint_distance(a, b) == 0.75
    assert core.keypoint_distance(a, b[:1]) == float('inf')


def _checkpoint(model, path):
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def test_cli_export_verify_and_overwrite(tmp_path, capsys):
    config = repo_path(PAIRS['tiny']['SPCNet'][0])
    model = _tiny('SPCNet', 'paper')
    ckpt = _checkpoint(model, tmp_path / 'spcnet.pth')
    out = str(tmp_path / 'spcnet.onnx')
    args = [config, ckpt, '--out', out, '--verify', '--threads', '1']
    assert pytorch2onnx.main(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('PASS max |PyTorch - ONNX Runtime|'), last

    # an existing file is kept unless --force
    assert core.run_cli(pytorch2onnx.main, args) == 2
    assert '--force' in capsys.readouterr().err

    # --verify fails (status 1) when the file is not the checkpoint's model
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(1.05)
    _checkpoint(model, tmp_path / 'other.pth')
    other = [config, str(tmp_path / 'other.pth'), '--out', out]
    assert pytorch2onnx.main(other + ['--force']) == 0  # the other model
    report = core.verify(core.load_model(config, ckpt), out, batch_sizes=(1, ))
    assert report['output'] > core.OUTPUT_TOLERANCE
    assert core.verify_line(report).startswith('FAIL')


def test_cli_errors(tmp_path, capsys):
    spcnet = _checkpoint(_tiny('SPCNet', 'paper'), tmp_path / 'spcnet.pth')
    out = str(tmp_path / 'x.onnx')
    # unknown config
    assert core.run_cli(pytorch2onnx.main,
                        ['configs/nope.py', spcnet, '--out', out]) == 2
    assert 'config configs/nope.py does not exist' in capsys.readouterr().err
    # a checkpoint of another architecture
    samkr = repo_path(PAIRS['tiny']['SAMKR'][0])
    assert core.run_cli(pytorch2onnx.main, [samkr, spcnet, '--out', out]) == 2
    err = capsys.readouterr().err
    assert f'checkpoint {spcnet} is not a checkpoint of the model of ' \
        f'config {samkr}' in err
    assert 'SAMKRHead' in err
    assert not osp.exists(out)
    # an opset without DeformConv for a deformable model
    with pytest.raises(ValueError, match='DeformConv from opset 19'):
        core.export(_tiny('SAMKR', 'paper'), out, opset=17)


class _Unexportable(torch.nn.Module):

    def forward(self, x):
        return x + torch.special.i0e(x)  # no ONNX symbolic


class _Prefixed(torch.nn.Module):

    def __init__(self, backbone):
        super().__init__()
        self.unexportable = _Unexportable()
        self.inner = backbone

    def forward(self, x):
        return self.inner(self.unexportable(x))


def test_unexportable_operator_is_named_with_its_module(tmp_path):
    model = _tiny('SPCNet', 'baseline')
    model.backbone = _Prefixed(model.backbone)
    with pytest.raises(RuntimeError) as e:
        core.export(model, str(tmp_path / 'x.onnx'))
    assert "operator aten::special_i0e comes from module(s) " \
        "'backbone.unexportable'" in str(e.value)


def test_mmcv_deform_conv_becomes_standard(tmp_path):
    """mmcv's own DeformConv2d (as in MMPose's DEKRHead) exports as mmcv's
    custom operator; the exporter swaps it for ours (same weights)."""
    from mmcv.ops import DeformConv2d as MMCVDeformConv2d

    class Net(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.offset = torch.nn.Conv2d(4, 18, 3, padding=1)
            self.conv = MMCVDeformConv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return self.conv(x, self.offset(x))

    net = Net().eval()
    x = torch.randn(1, 4, 8, 8)
    raw = str(tmp_path / 'raw.onnx')
    torch.onnx.export(net, (x, ), raw, dynamo=False, opset_version=19)
    assert core.non_standard_ops(onnx.load(raw)) == [
        'mmcv::MMCVDeformConv2d'
    ]
    expected = net(x)
    assert core.use_standard_deform_convs(net, 'DeformConv') == 1
    torch.testing.assert_close(net(x), expected)
    fixed = str(tmp_path / 'fixed.onnx')
    torch.onnx.export(net, (x, ), fixed, dynamo=False, opset_version=19)
    assert core.non_standard_ops(onnx.load(fixed)) == []
    session = core.ort_session(fixed)
    torch.testing.assert_close(
        core.run_session(session, x)[0], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('paper', ['SG-HRNet', 'SAMKR'])
def test_onnx_inference_draws_keypoints(paper, tmp_path, capsys):
    import mmcv
    model = _tiny(paper, 'paper')
    path = str(tmp_path / 'model.onnx')
    core.export(model, path)
    config = repo_path(PAIRS['tiny'][paper][0])
    image = osp.join(core.samples_root(), core.SAMPLE_IMAGE)
    picture = str(tmp_path / 'pose.jpg')
    args = [path, config, image, '--out', picture, '--kpt-thr', '0']
    if paper != 'SAMKR':
        args += ['--bbox', *map(str, core.SAMPLE_BBOXES[0])]
    assert onnx_inference.main(args) == 0
    printed = capsys.readouterr().out
    assert f'wrote {picture}' in printed
    drawn = mmcv.imread(picture).astype(int)
    original = mmcv.imread(image).astype(int)
    assert drawn.shape == original.shape
    # keypoints and limbs drawn: many pixels changed beyond JPEG noise
    assert (np.abs(drawn - original).max(-1) > 60).sum() > 50
    if paper == 'SAMKR':
        with pytest.raises(ValueError, match='bottom-up'):
            onnx_inference.main(args + ['--bbox', '0', '0', '9', '9',
                                        '--force'])
