"""Bad data fails early with an error naming the file and the problem."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmpose.registry import DATASETS, TRANSFORMS

COCO_META = dict(from_file='configs/_base_/datasets/coco.py')


def write_coco(root, num_keypoints=17, instances=True, keypoints=None):
    """A two-image COCO keypoint file with real JPEGs under ``root``."""
    images, anns = [], []
    for i in range(2):
        name = f'{i:03d}.jpg'
        cv2.imwrite(
            osp.join(root, name),
            np.full((64, 48, 3), 60 * i, dtype=np.uint8))
        images.append(dict(id=i + 1, file_name=name, width=48, height=64))
        kpts = keypoints if keypoints is not None else [
            10.0, 20.0, 2
        ] * num_keypoints
        if instances:
            anns.append(
                dict(
                    id=i + 1,
                    image_id=i + 1,
                    category_id=1,
                    bbox=[4, 4, 30, 50],
                    area=1500.0,
                    iscrowd=0,
                    num_keypoints=len(kpts) // 3,
                    keypoints=kpts))
    ann_file = osp.join(root, 'ann.json')
    with open(ann_file, 'w') as f:
        json.dump(
            dict(
                images=images,
                annotations=anns,
                categories=[dict(id=1, name='person')]), f)
    return ann_file


def build_coco(root, **kwargs):
    cfg = dict(
        type='CocoDataset',
        data_root=str(root),
        ann_file='ann.json',
        data_prefix=dict(img=''),
        data_mode='topdown',
        metainfo=COCO_META,
        pipeline=[])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_valid_dataset_loads_unchanged(tmp_path):
    write_coco(str(tmp_path))
    dataset = build_coco(tmp_path)
    assert len(dataset) == 2
    assert dataset[0]['keypoints'].shape == (1, 17, 2)


def test_missing_data_root(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(FileNotFoundError, match='data_root does not exist') \
            as err:
        build_coco(missing)
    assert str(missing) in str(err.value)


def test_missing_annotation_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='annotation file') as err:
        build_coco(tmp_path, ann_file='missing.json')
    assert osp.join(str(tmp_path), 'missing.json') in str(err.value)


def test_wrong_joint_count(tmp_path):
    ann_file = write_coco(str(tmp_path), num_keypoints=14)
    with pytest.raises(ValueError, match='has 14 keypoints') as err:
        build_coco(tmp_path)
    assert ann_file in str(err.value) and 'defines 17' in str(err.value)


def test_keypoint_list_not_in_triples(tmp_path):
    ann_file = write_coco(str(tmp_path), keypoints=[1.0] * 50)
    with pytest.raises(ValueError, match='cannot parse keypoint') as err:
        build_coco(tmp_path)
    assert ann_file in str(err.value)


def test_empty_dataset_refused(tmp_path):
    ann_file = write_coco(str(tmp_path), instances=False)
    with pytest.raises(ValueError, match='no valid instances') as err:
        build_coco(tmp_path)
    assert ann_file in str(err.value)


def test_unreadable_image(tmp_path):
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not a jpeg at all')
    load = TRANSFORMS.build(dict(type='LoadImage'))
    with pytest.raises(OSError, match='cannot read image') as err:
        load(dict(img_path=str(bad)))
    assert str(bad) in str(err.value)


def test_missing_image(tmp_path):
    load = TRANSFORMS.build(dict(type='LoadImage'))
    with pytest.raises(FileNotFoundError, match='image file not found'):
        load(dict(img_path=str(tmp_path / 'gone.jpg')))


def test_real_mpii_headbox_file_checked(samples_root):
    with pytest.raises(FileNotFoundError, match='headbox_file') as err:
        DATASETS.build(
            dict(
                type='MpiiDataset',
                data_root=osp.join(samples_root, 'mpii'),
                ann_file='test_mpii.json',
                headbox_file=osp.join(samples_root, 'mpii', 'gt.mat'),
                data_prefix=dict(img=''),
                test_mode=True,
                pipeline=[]))
    assert 'gt.mat' in str(err.value)


def test_unreadable_image_says_what_failed(tmp_path):
    load = TRANSFORMS.build(dict(type='LoadImage'))
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(OSError) as err:
        load(dict(img_path=str(empty)))
    assert str(err.value) == f'{empty}: cannot read image: empty file ' \
        '(0 bytes)'
    text = tmp_path / 'text.jpg'
    text.write_bytes(b'hello, not pixels')
    with pytest.raises(OSError) as err:
        load(dict(img_path=str(text)))
    assert "not an image OpenCV can decode (17 bytes, starting b'hello, n')" \
        in str(err.value)
    assert 'check whether the file exists' not in str(err.value)


def break_images(root):
    """Empty the first image of write_coco's pair, garble the second."""
    with open(osp.join(root, '000.jpg'), 'wb'):
        pass
    with open(osp.join(root, '001.jpg'), 'wb') as f:
        f.write(b'GIF89a but not really')


def test_check_images_is_opt_in(tmp_path):
    write_coco(str(tmp_path))
    break_images(str(tmp_path))
    assert len(build_coco(tmp_path)) == 2  # found only when loaded
    with pytest.raises(OSError) as err:
        build_coco(tmp_path, filter_cfg=dict(check_images=True))
    message = str(err.value)
    assert message.startswith(f'{tmp_path}/ann.json: 2 of 2 listed images '
                              'cannot be read')
    assert f'{tmp_path}/000.jpg: empty file (0 bytes)' in message
    assert f'{tmp_path}/001.jpg: not an image OpenCV can decode' in message


def test_check_images_missing_files(tmp_path, capsys):
    write_coco(str(tmp_path))
    assert len(build_coco(tmp_path, filter_cfg=dict(check_images=True))) == 2
    assert '2/2' in capsys.readouterr().out  # the progress bar
    os.remove(osp.join(str(tmp_path), '001.jpg'))
    with pytest.raises(FileNotFoundError,
                       match='1 of 2 listed images cannot be read') as err:
        build_coco(tmp_path, filter_cfg=dict(check_images=True))
    assert f'{tmp_path}/001.jpg: file not found' in str(err.value)


def test_stock_mmpose_ignores_check_images_without_our_checks(tmp_path):
    import mmpose_attn
    write_coco(str(tmp_path))
    break_images(str(tmp_path))
    mmpose_attn.undo_host_changes('data_checks')
    try:
        dataset = build_coco(tmp_path, filter_cfg=dict(check_images=True))
    finally:
        mmpose_attn.apply_host_changes()
    assert len(dataset) == 2


def test_mpii_list_json_in_a_coco_config(samples_root):
    ann_file = osp.join(samples_root, 'mpii', 'test_mpii.json')
    with pytest.raises(ValueError, match='expects a COCO-style annotation '
                       'file') as err:
        build_coco(osp.join(samples_root, 'mpii'), ann_file='test_mpii.json')
    assert str(err.value).startswith(f'{ann_file}: CocoDataset expects')
    assert "<class 'list'>" in str(err.value)
    assert 'MpiiDataset' in str(err.value)
