"""The data checks on their own: the config pre-flight our train/test tools
run before MMPose's constructors read a file, and the checks of a built
dataset (the end-to-end cases are in tests/test_engine/
test_data_check_hook.py)."""
import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmpose.registry import DATASETS

from mmpose_attn.datasets.data_checks import (CheckReport, DataCheckError,
                                              check_config_files,
                                              check_dataset)


def check_tool_config(config, options=(), phases=('train', 'val')):
    """What the train/test commands check before building the runner."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options))
    check_config_files(cfg, phases=phases)

CONFIG = """
default_scope = 'mmpose'
data = dict(type='CocoDataset', data_root={root!r}, ann_file='test_coco.json',
            data_prefix=dict(img=''), pipeline=[])
train_dataloader = dict(dataset=data)
val_dataloader = dict(dataset=data)
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file={root!r} + 'test_coco.json')
test_evaluator = val_evaluator
"""


@pytest.fixture
def config(tmp_path, samples_root):
    """A config with the COCO samples as train/val/test data."""
    path = tmp_path / 'coco.py'
    path.write_text(CONFIG.format(root=osp.join(samples_root, 'coco', '')))
    return str(path)


def test_preflight_names_the_evaluator_file(tmp_path, config):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"images": [1, 2,,]}')
    with pytest.raises(DataCheckError) as err:
        check_tool_config(config, [f'val_evaluator.ann_file={bad}'])
    assert str(err.value) == (f'{bad}: annotation file is not valid JSON '
                              '(Expecting value at line 1, column 18)')
    empty = tmp_path / 'empty.json'
    empty.write_text('')
    with pytest.raises(DataCheckError) as err:
        check_tool_config(
            config, [f'test_evaluator.ann_file={empty}'], phases=('test', ))
    assert str(err.value) == f'{empty}: annotation file is empty (0 bytes)'
    # the test phase only reads the test evaluator's file
    check_tool_config(
        config, [f'val_evaluator.ann_file={empty}'], phases=('test', ))


def test_preflight_checks_the_dataset_file_before_mmpose(
        tmp_path, samples_root, config):
    """MMPose's CocoDataset would parse this 14-joint file into 14-joint
    samples and fail much later."""
    with open(osp.join(samples_root, 'coco', 'test_coco.json')) as f:
        data = json.load(f)
    for a in data['annotations']:
        a['keypoints'] = a['keypoints'][:42]
    with open(tmp_path / 'test_coco.json', 'w') as f:
        json.dump(data, f)
    with pytest.raises(DataCheckError) as err:
        check_tool_config(config,
                          [f'train_dataloader.dataset.data_root={tmp_path}/'])
    assert str(err.value).startswith(
        f'{tmp_path}/test_coco.json: 14 annotation(s) do not hold 17 '
        'keypoints of 3 values (x, y, visibility) as metainfo (coco) of '
        'train_dataloader.dataset (CocoDataset) defines: first id 442619 '
        '(000000000785.jpg) has 42 values')


def test_valid_samples_pass_every_check(samples_root, config):
    cfg = Config.fromfile(config)
    check_tool_config(config)
    report = CheckReport(logger=lambda line: None)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    check_dataset(dataset, 'train_dataloader.dataset', report)
    assert report.warnings == []
    mpii = DATASETS.build(
        dict(
            type='MpiiDataset',
            data_root=osp.join(samples_root, 'mpii'),
            ann_file='test_mpii.json',
            data_prefix=dict(img=''),
            pipeline=[]))
    check_dataset(mpii, 'val_dataloader.dataset', report)
    assert report.warnings == []


def test_mpii_file_with_nan_joint(tmp_path, samples_root):
    with open(osp.join(samples_root, 'mpii', 'test_mpii.json')) as f:
        data = json.load(f)
    data[2]['joints'][5][0] = float('nan')
    path = tmp_path / 'mpii.json'
    with open(path, 'w') as f:
        json.dump(data, f)
    dataset = DATASETS.build(
        dict(
            type='MpiiDataset',
            data_root=osp.join(samples_root, 'mpii'),
            ann_file=str(path),
            data_prefix=dict(img=''),
            pipeline=[]))
    with pytest.raises(DataCheckError) as err:
        check_dataset(dataset, 'train_dataloader.dataset', CheckReport())
    assert str(err.value) == (
        f'{path}: 1 record(s) have NaN or infinite joints, centre or scale: '
        f'record 2 ({data[2]["image"]})')


def test_preflight_mpii_file_as_coco_evaluator_file(config, samples_root):
    mpii = osp.join(samples_root, 'mpii', 'test_mpii.json')
    with pytest.raises(DataCheckError) as err:
        check_tool_config(config, [f'val_evaluator.ann_file={mpii}'])
    assert str(err.value) == (
        f'{mpii}: val_evaluator (CocoMetric) expects a COCO-style annotation '
        'file (a dict with "images", "annotations" and "categories"), found '
        'a list of 5 items; this is an MPII-style file (a list of dicts with '
        '"joints", "center", "scale"), read by MpiiDataset')


def test_preflight_refuses_a_file_without_usable_persons(
        tmp_path, samples_root, config):
    """mmengine's dataset fails on it with ``need at least one array to
    concatenate``, naming nothing."""
    with open(osp.join(samples_root, 'coco', 'test_coco.json')) as f:
        data = json.load(f)
    for a in data['annotations']:
        a['iscrowd'] = 1
    with open(tmp_path / 'test_coco.json', 'w') as f:
        json.dump(data, f)
    with pytest.raises(DataCheckError) as err:
        check_tool_config(config,
                          [f'train_dataloader.dataset.data_root={tmp_path}/'])
    assert str(err.value).startswith(
        f'{tmp_path}/test_coco.json: train_dataloader.dataset (CocoDataset) '
        'keeps none of its 14 person annotation(s)')


def coco_dataset(root, **kwargs):
    return DATASETS.build(
        dict(
            type='CocoDataset',
            data_root=str(root),
            ann_file='test_coco.json',
            data_prefix=dict(img=''),
            pipeline=[],
            **kwargs))


def copy_samples(samples_root, dst, edit=None):
    import shutil
    shutil.copytree(osp.join(samples_root, 'coco'), dst)
    if edit:
        with open(dst / 'test_coco.json') as f:
            data = json.load(f)
        edit(data)
        with open(dst / 'test_coco.json', 'w') as f:
            json.dump(data, f)


def test_keypoint_far_outside_the_image(tmp_path, samples_root):
    """MMPose trains on it; a keypoint 3 image widths to the right is a
    coordinate in another frame (the image is 640 wide)."""

    def edit(data):
        data['annotations'][0]['keypoints'][3] = 640 * 3.0

    copy_samples(samples_root, tmp_path / 'd', edit)
    dataset = coco_dataset(tmp_path / 'd')
    assert len(dataset) == 12  # MMPose keeps it
    with pytest.raises(DataCheckError) as err:
        check_dataset(dataset, 'train_dataloader.dataset', CheckReport())
    assert str(err.value) == (
        f'{tmp_path}/d/test_coco.json: 1 annotation(s) have labelled '
        'keypoints outside the image by more than the image size (wrong '
        'coordinates?): id 442619 (000000000785.jpg)')


def test_check_images_decodes_every_image(tmp_path, samples_root, capsys):
    copy_samples(samples_root, tmp_path / 'd')
    path = tmp_path / 'd' / '000000000785.jpg'
    data = path.read_bytes()
    report = CheckReport(logger=lambda line: None)
    check_dataset(
        coco_dataset(tmp_path / 'd', filter_cfg=dict(check_images=True)),
        'train_dataloader.dataset', report)
    assert '4/4' in capsys.readouterr().out  # the progress bar
    path.write_bytes(data[:len(data) // 2])  # truncated: stat cannot tell
    check_dataset(coco_dataset(tmp_path / 'd'), 'train_dataloader.dataset',
                  report)
    with pytest.raises(DataCheckError) as err:
        check_dataset(
            coco_dataset(tmp_path / 'd', filter_cfg=dict(check_images=True)),
            'train_dataloader.dataset', report)
    assert str(err.value) == (
        f'{tmp_path}/d/test_coco.json: 1 of 4 images listed by '
        'train_dataloader.dataset (CocoDataset) cannot be read '
        f'(check_images=True): {path}: not an image OpenCV can decode (66837 '
        "bytes, starting b'\\xff\\xd8\\xff\\xe0\\x00\\x10JF')")


def test_preflight_names_missing_paths(tmp_path, config, samples_root):
    for option, message in [
        (f'train_dataloader.dataset.data_root={tmp_path}/nowhere/',
         f'{tmp_path}/nowhere/: train_dataloader.dataset.data_root '
         '(CocoDataset) does not exist'),
        ('val_dataloader.dataset.ann_file=missing.json',
         f'{samples_root}/coco/missing.json: val_dataloader.dataset.ann_file '
         '(CocoDataset) does not exist'),
        (f'val_dataloader.dataset.bbox_file={tmp_path}/det.json',
         f'{tmp_path}/det.json: val_dataloader.dataset.bbox_file '
         '(CocoDataset) does not exist'),
        ('train_dataloader.dataset.data_prefix.img=images/',
         f'{samples_root}/coco/images/: the image folder of '
         'train_dataloader.dataset (CocoDataset: data_root + '
         'data_prefix.img) does not exist'),
    ]:
        with pytest.raises(FileNotFoundError) as err:
            check_tool_config(config, [option])
        assert str(err.value) == message


@pytest.mark.parametrize('data_mode', ['topdown', 'bottomup'])
@pytest.mark.parametrize('name,dataset_type', [('coco', 'CocoDataset'),
                                               ('crowdpose',
                                                'CrowdPoseDataset')])
def test_images_from_the_file_are_those_mmpose_lists(samples_root, data_mode,
                                                     name, dataset_type):
    """The image scan reads the file names from the annotation file (not
    from mmengine's serialised samples): the same images as MMPose's."""
    root = osp.join(samples_root, name, '')
    dataset = DATASETS.build(
        dict(
            type=dataset_type,
            data_root=root,
            ann_file=f'test_{name}.json',
            data_mode=data_mode,
            data_prefix=dict(img=''),
            pipeline=[]))
    report = CheckReport(logger=lambda line: None)
    check_dataset(dataset, 'train_dataloader.dataset', report)
    listed = sorted({
        dataset.get_data_info(i)['img_path']
        for i in range(len(dataset))
    })
    assert [root + n for n in report.kept_images[root + f'test_{name}.json']
            ] == listed
