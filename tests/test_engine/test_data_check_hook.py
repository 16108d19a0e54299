"""Bad input ends before iteration 1 with a message naming the file (or the
setting), through ``python -m mmpose_attn.tools.train``: on a tiny top-down
config (MMPose's ResNet config with this package's ``runner_type``,
``custom_imports`` and ``custom_hooks``; every config of ours has the same,
tests/test_configs) and the COCO samples, and the bottom-up NaN case on the
tiny SAMKR config.

One subprocess runs the train command once per case (``runpy``, as the CLI
does, each with its own work dir) and records what each run raised; one
more runs the CLI itself for its exit status. Each case asserts the error,
that it names the file, image and annotation id (or the setting), and that
nothing was trained: no checkpoint and no training log line. The checks
themselves, case by case, are in tests/test_datasets/test_data_checks.py.
"""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLES = osp.join(REPO, 'mmpose_attn', 'data', 'mmpose_samples')
BOTTOMUP = osp.join(REPO, 'configs', 'samkr',
                    'samkr_hrnet-tiny_1xb2-2e_coco-128x128.py')
IMG_785 = '000000000785.jpg'  # annotation 442619, 640x425

TOPDOWN_CONFIG = """
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py']  # noqa: E501
custom_imports = {custom_imports!r}
custom_hooks = {custom_hooks!r}
{runner_type}
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
codec = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    head=dict(in_channels=512, deconv_out_channels=(8, 8, 8), decoder=codec))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
data = dict(
    data_root={root!r}, ann_file='test_coco.json', data_prefix=dict(img=''))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(pipeline=train_pipeline, **data))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(bbox_file=None, pipeline=val_pipeline, **data))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file={root!r} + 'test_coco.json')
test_evaluator = val_evaluator
"""
# MMPose's HourglassNet, two halvings per hourglass (input: multiples of 16)
HOURGLASS_CONFIG = """
_base_ = ['./topdown.py']
model = dict(
    backbone=dict(
        _delete_=True, type='HourglassNet', downsample_times=2, num_stacks=1,
        stage_channels=(256, 8, 8), stage_blocks=(1, 1, 1), feat_channel=8),
    head=dict(in_channels=8, deconv_out_channels=None))
"""


def write_configs(folder):
    """The tiny top-down and hourglass configs, in ``folder``."""
    runtime = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'default_runtime.py'))
    topdown = osp.join(folder, 'topdown.py')
    with open(topdown, 'w') as f:
        f.write(
            TOPDOWN_CONFIG.format(
                custom_imports=runtime.custom_imports.to_dict(),
                custom_hooks=[h.to_dict() for h in runtime.custom_hooks],
                runner_type=f'runner_type = {runtime.runner_type!r}'
                if 'runner_type' in runtime else '',
                root=osp.join(SAMPLES, 'coco', '')))
    hourglass = osp.join(folder, 'hourglass.py')
    with open(hourglass, 'w') as f:
        f.write(HOURGLASS_CONFIG)
    return topdown, hourglass


# Runs each case as `python -m mmpose_attn.tools.train CONFIG ...` does,
# then the last one as the command itself (uncaught: its exit status).
DRIVER = r'''
import json, runpy, sys, traceback
cases, out, out_file = json.load(open(sys.argv[1])), {}, sys.argv[2]
*caught, last = cases.items()
for name, argv in caught:
    sys.argv = ['train.py'] + argv
    try:
        runpy.run_module('mmpose_attn.tools.train', run_name='__main__')
        out[name] = dict(error=None, message='')
    except BaseException as e:
        out[name] = dict(error=type(e).__name__, message=str(e),
                         trace=traceback.format_exc()[-3000:])
json.dump(out, open(out_file, 'w'))
sys.argv = ['train.py'] + last[1]
runpy.run_module('mmpose_attn.tools.train', run_name='__main__')
'''


def _env():
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)


def coco_copy(root, edit=None, image_edit=None):
    """The COCO samples copied to ``root``; ``edit(data)`` changes the
    annotation file, ``image_edit(root)`` the images."""
    shutil.copytree(osp.join(SAMPLES, 'coco'), root)
    if edit:
        path = osp.join(root, 'test_coco.json')
        with open(path) as f:
            data = json.load(f)
        edit(data)
        with open(path, 'w') as f:
            json.dump(data, f)
    if image_edit:
        image_edit(root)
    return osp.join(root, '')


def ann(data, ann_id):
    return next(a for a in data['annotations'] if a['id'] == ann_id)


def nan_keypoint(data):
    ann(data, 442619)['keypoints'][3] = float('nan')


def sixteen_joints(data):
    for a in data['annotations']:
        a['keypoints'] = a['keypoints'][:16 * 3]


def no_labelled_person(data):
    for a in data['annotations']:
        a['keypoints'] = [0] * 51
        a['num_keypoints'] = 0


def zero_width_boxes(data):
    for ann_id in (198196, 230195):
        ann(data, ann_id)['bbox'][2] = 0.0


def remove(name):
    return lambda root: os.remove(osp.join(root, name))


def empty(name):
    return lambda root: open(osp.join(root, name), 'wb').close()


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    """``{case: (record, work_dir, data_dir)}`` of every case below."""
    tmp = tmp_path_factory.mktemp('bad_input')
    TOPDOWN, HOURGLASS = write_configs(str(tmp))
    cases, dirs = {}, {}

    def case(name, config, options, data=None):
        work = str(tmp / 'work' / name)
        opts = [f'experiment_name={name}'] + options
        cases[name] = [config, '--work-dir', work, '--cfg-options'] + opts
        dirs[name] = (work, data)

    def train_root(name, **kwargs):
        root = coco_copy(str(tmp / name), **kwargs)
        return root, [f'train_dataloader.dataset.data_root={root}']

    root, opt = train_root('unlabelled', edit=no_labelled_person)
    case('empty_dataset', TOPDOWN, opt, root)
    root, opt = train_root('boxes', edit=zero_width_boxes)
    case('zero_width_boxes', TOPDOWN, opt + ['train_cfg.max_epochs=0'], root)
    root, opt = train_root('missing', image_edit=remove('000000040083.jpg'))
    case('missing_train_image', TOPDOWN, opt, root)
    root = coco_copy(str(tmp / 'val_empty'), image_edit=empty(IMG_785))
    case('empty_val_image', TOPDOWN,
         [f'val_dataloader.dataset.data_root={root}'], root)

    evaluator_files = {
        'evaluator_16_joints': coco_copy(
            str(tmp / 'joints16'), edit=sixteen_joints) + 'test_coco.json',
        'evaluator_mpii_file': osp.join(SAMPLES, 'mpii', 'test_mpii.json'),
        'evaluator_invalid_json': str(tmp / 'invalid.json'),
    }
    with open(evaluator_files['evaluator_invalid_json'], 'w') as f:
        f.write('{"images": [], "annotations": [')
    for name, path in evaluator_files.items():
        case(name, TOPDOWN, [f'val_evaluator.ann_file={path}'], path)

    case('codec_input_size', TOPDOWN,
         ['model.head.decoder.input_size=(100,128)'])
    case('hourglass_72x72', HOURGLASS,
         ['model.head.decoder.input_size=(72,72)'])
    # last: the bottom-up SAMKR run that crashed with `cannot convert float
    # NaN to integer` after training started, naming no file
    root = coco_copy(str(tmp / 'nan'), edit=nan_keypoint)
    case('cli_bottomup_nan', BOTTOMUP,
         [f'train_dataloader.dataset.data_root={root}'], root)
    with open(tmp / 'cases.json', 'w') as f:
        json.dump(cases, f)
    proc = subprocess.run(
        [sys.executable, '-c', DRIVER,
         str(tmp / 'cases.json'),
         str(tmp / 'out.json')],
        cwd=str(tmp), env=_env(), capture_output=True, text=True,
        timeout=900)
    assert osp.isfile(tmp / 'out.json'), proc.stderr[-5000:]
    with open(tmp / 'out.json') as f:
        out = json.load(f)
    out['cli_bottomup_nan'] = dict(returncode=proc.returncode,
                                   stderr=proc.stderr)
    return {k: (out[k], ) + dirs[k] for k in cases}


def nothing_trained(work_dir):
    """No checkpoint and no training log line in ``work_dir``."""
    assert not glob.glob(osp.join(work_dir, '**', '*.pth'), recursive=True)
    for log in glob.glob(osp.join(work_dir, '*', '*.log')):
        assert 'Epoch(train)' not in open(log).read(), log


def error_of(results, name, error='DataCheckError'):
    record, work, data = results[name]
    assert record['error'] == error, record.get('trace', record)
    nothing_trained(work)
    return record['message'], data


def test_empty_dataset_refused(results):
    message, root = error_of(results, 'empty_dataset')
    assert message.startswith(f'{root}test_coco.json: train_dataloader.'
                              'dataset (CocoDataset) keeps none of its 14 '
                              'person annotation(s)')
    assert 'refusing to train' in message


def test_zero_width_boxes_one_warning_line(results):
    record, work, root = results['zero_width_boxes']
    assert record['error'] is None, record
    [log] = glob.glob(osp.join(work, '*', '*.log'))
    lines = [
        line for line in open(log).read().splitlines()
        if 'non-positive width or height' in line
    ]
    assert len(lines) == 1
    assert lines[0].endswith(f'{root}test_coco.json: 2 annotation(s) with a '
                             'box of non-positive width or height (inside '
                             'the image) are skipped, as MMPose does: ids '
                             '198196, 230195')
    nothing_trained(work)  # max_epochs=0


def test_missing_train_image(results):
    message, root = error_of(results, 'missing_train_image',
                             'FileNotFoundError')
    assert message.startswith(f'{root}test_coco.json: 1 of 4 images listed '
                              'by train_dataloader.dataset (CocoDataset) '
                              'cannot be read')
    assert f'{root}000000040083.jpg: file not found' in message


def test_empty_val_image_before_training(results):
    message, root = error_of(results, 'empty_val_image')
    assert 'val_dataloader.dataset' in message
    assert f'{root}{IMG_785}: empty file (0 bytes)' in message


def test_evaluator_ann_file_with_16_joints(results):
    message, path = error_of(results, 'evaluator_16_joints')
    assert message.startswith(f'{path}: 14 annotation(s) do not hold 17 '
                              'keypoints')
    assert 'val_evaluator' in message


def test_evaluator_ann_file_mpii(results):
    message, path = error_of(results, 'evaluator_mpii_file')
    assert message.startswith(f'{path}: val_evaluator (CocoMetric) expects '
                              'a COCO-style annotation file')
    assert 'MPII-style' in message


def test_evaluator_ann_file_invalid_json(results):
    message, path = error_of(results, 'evaluator_invalid_json')
    assert message.startswith(f'{path}: annotation file is not valid JSON')


def test_input_size_the_backbone_cannot_process(results):
    message, _ = error_of(results, 'codec_input_size', 'ValueError')
    assert message.startswith('codec.input_size (model.head.decoder)=(100, '
                              '128): ResNet needs each side of its input to '
                              'be a multiple of 32')
    assert message.endswith('nearest valid sizes: (96, 128) or (128, 128)')
    message, _ = error_of(results, 'hourglass_72x72', 'ValueError')
    assert message == (
        'codec.input_size (model.head.decoder)=(72, 72): HourglassNet needs '
        'each side of its input to be a multiple of 16 (a stem of /4 and 2 '
        'stride-2 levels per hourglass (downsample_times)); nearest valid '
        'sizes: (64, 64) or (80, 80)')


def test_cli_exit_status_bottomup_nan(results):
    """The command exits with status 1 and, as the last line, the error
    naming the file, the image and the annotation id."""
    record, work, root = results['cli_bottomup_nan']
    assert record['returncode'] == 1, record['stderr'][-3000:]
    last = record['stderr'].strip().splitlines()[-1]
    assert last.startswith(f'mmpose_attn.datasets.data_checks.DataCheckError: '
                           f'{root}test_coco.json: 1 annotation(s) have NaN')
    assert f'id 442619 ({IMG_785})' in last
    nothing_trained(work)
