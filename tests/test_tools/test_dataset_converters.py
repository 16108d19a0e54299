"""Round trips of the LSP / FLIC ``.mat`` converters and their errors on bad
input, on tiny hand-made ``.mat`` files written with scipy."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from mmpose_attn.tools.dataset_converters import flic2coco, lsp2coco

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _image(path, width, height):
    cv2.imwrite(str(path), np.full((height, width, 3), 127, np.uint8))


def make_lsp(root, num_lsp=4, num_lspet=2):
    """LSP joints 3 x 14 x N (flag 1 = occluded) and LSP-extended joints
    14 x 3 x N (flag 1 = visible), 1-based coordinates ``x = 10 + 2k + i``,
    ``y = 5 + 3k``, images of size (60 + i) x 46."""
    lsp, lspet = root / 'lsp_dataset', root / 'lspet_dataset'
    (lsp / 'images').mkdir(parents=True)
    (lspet / 'images').mkdir(parents=True)
    k = np.arange(14)
    joints = np.zeros((3, 14, num_lsp))
    for i in range(num_lsp):
        joints[0, :, i] = 10 + 2 * k + i
        joints[1, :, i] = 5 + 3 * k
        _image(lsp / 'images' / f'im{i + 1:04d}.jpg', 60 + i, 46)
    joints[2, [0, 13], 0] = 1  # image 1: right ankle and head top occluded
    savemat(lsp / 'joints.mat', {'joints': joints})
    ext = np.zeros((14, 3, num_lspet))
    for i in range(num_lspet):
        ext[:, 0, i] = 20 + k
        ext[:, 1, i] = 30 + k
        ext[:, 2, i] = 1
        _image(lspet / 'images' / f'im{i + 1:05d}.jpg', 70, 80)
    ext[5, :, 1] = (-1, -1, 0)  # LSP-extended image 2: left ankle invisible
    savemat(lspet / 'joints.mat', {'joints': ext})
    return joints, ext


def make_flic(root, bad_field=None):
    """Three FLIC examples (train, test, neither); slot s (1-based) of example
    i holds (x, y) = (s + 10 i, 2 s); unlabelled slots are NaN; the test
    example's nose (slot 17) is NaN too."""
    (root / 'images').mkdir(parents=True)
    fields = ['coords', 'filepath', 'imgdims', 'istrain', 'istest',
              'torsobox']
    if bad_field:
        fields.remove(bad_field)
    examples = np.zeros((1, 3), dtype=[(f, 'O') for f in fields])
    for i in range(3):
        coords = np.full((2, 29), np.nan)
        for s in flic2coco.FLIC_SLOTS:
            coords[:, s - 1] = (s + 10 * i, 2 * s)
        if i == 1:
            coords[:, 16] = np.nan
        values = dict(
            coords=coords,
            filepath=f'movie-{i:08d}.jpg',
            imgdims=np.array([48., 64., 3.]),
            istrain=np.uint8(i == 0),
            istest=np.uint8(i == 1),
            torsobox=np.array([3., 4., 33., 44.]))
        examples[0, i] = tuple(values[f] for f in fields)
        _image(root / 'images' / f'movie-{i:08d}.jpg', 64, 48)
    savemat(root / 'examples.mat', {'examples': examples})


def load(path):
    with open(path) as f:
        return json.load(f)


def test_lsp_round_trip(tmp_path):
    joints, ext = make_lsp(tmp_path)
    lsp2coco.main([str(tmp_path), '--num-train', '2', '--margin', '0.1'])
    train = load(tmp_path / 'annotations' / 'lsp_train.json')
    test = load(tmp_path / 'annotations' / 'lsp_test.json')

    assert [im['id'] for im in train['images']] == [1, 2, 10001, 10002]
    assert [im['id'] for im in test['images']] == [3, 4]
    assert train['images'][1] == dict(
        id=2, file_name='lsp_dataset/images/im0002.jpg', width=61, height=46)
    assert train['images'][2]['file_name'] == \
        'lspet_dataset/images/im00001.jpg'
    assert train['categories'][0]['keypoints'] == lsp2coco.LSP_KEYPOINTS

    # LSP: 0-based coordinates, flag 1 (occluded) -> v=1, flag 0 -> v=2.
    kpts = np.array(train['annotations'][0]['keypoints']).reshape(14, 3)
    np.testing.assert_allclose(kpts[:, :2], joints[:2, :, 0].T - 1)
    assert kpts[:, 2].tolist() == [1] + [2] * 12 + [1]
    assert train['annotations'][0]['num_keypoints'] == 14
    # Test image 4 (index 3): x in 12..38, y in 4..43 (0-based); pad =
    # 0.1 * 39 = 3.9; x2 = 41.9 stays inside width 63, y2 = 46.9 clips to 46.
    ann = test['annotations'][1]
    assert ann['image_id'] == ann['id'] == 4
    np.testing.assert_allclose(ann['bbox'], [8.1, 0.1, 33.8, 45.9])
    assert ann['area'] == pytest.approx(33.8 * 45.9, abs=1e-3)

    # LSP-extended: flag 1 -> v=2, flag 0 -> unlabelled (v=0, x=y=0).
    kpts = np.array(train['annotations'][3]['keypoints']).reshape(14, 3)
    assert kpts[5].tolist() == [0, 0, 0]
    np.testing.assert_allclose(
        np.delete(kpts, 5, 0)[:, :2], np.delete(ext[:, :2, 1], 5, 0) - 1)
    assert train['annotations'][3]['num_keypoints'] == 13


def test_lsp_without_lspet(tmp_path):
    make_lsp(tmp_path)
    lsp2coco.main(
        [str(tmp_path), '--num-train', '3', '--no-lspet', '--out-dir',
         str(tmp_path / 'out')])
    assert [im['id'] for im in load(tmp_path / 'out' / 'lsp_train.json')
            ['images']] == [1, 2, 3]


def test_flic_round_trip(tmp_path):
    make_flic(tmp_path)
    flic2coco.main([str(tmp_path), '--margin', '0'])
    train = load(tmp_path / 'annotations' / 'flic_train.json')
    test = load(tmp_path / 'annotations' / 'flic_test.json')
    assert [im['id'] for im in train['images']] == [1]
    assert [im['id'] for im in test['images']] == [2]
    assert train['images'][0] == dict(
        id=1, file_name='images/movie-00000000.jpg', width=64, height=48)
    assert train['categories'][0]['keypoints'] == flic2coco.FLIC_KEYPOINTS

    slots = np.array([1, 2, 3, 4, 5, 6, 7, 10, 13, 14, 17])
    kpts = np.array(train['annotations'][0]['keypoints']).reshape(11, 3)
    np.testing.assert_allclose(kpts[:, 0], slots - 1)
    np.testing.assert_allclose(kpts[:, 1], 2 * slots - 1)
    assert (kpts[:, 2] == 2).all()
    # margin 0: the tight box of the labelled joints (x 0..16, y 1..33).
    np.testing.assert_allclose(train['annotations'][0]['bbox'],
                               [0, 1, 16, 32])
    assert train['annotations'][0]['torso_bbox'] == [2, 3, 30, 40]

    kpts = np.array(test['annotations'][0]['keypoints']).reshape(11, 3)
    assert kpts[10].tolist() == [0, 0, 0]  # NaN nose -> unlabelled
    np.testing.assert_allclose(kpts[:10, 0], slots[:10] + 10 - 1)
    assert test['annotations'][0]['num_keypoints'] == 10


def test_lsp_bad_inputs(tmp_path):
    joints, ext = make_lsp(tmp_path)
    mat = tmp_path / 'lsp_dataset' / 'joints.mat'

    savemat(mat, {'joints': joints.transpose(1, 0, 2)})
    with pytest.raises(ValueError, match=r'joints.mat.*shape \(14, 3, 4\).*'
                       r'3 x 14 x N'):
        lsp2coco.main([str(tmp_path), '--num-train', '2'])

    savemat(mat, {'points': joints})
    with pytest.raises(ValueError, match=r'joints.mat: no variable "joints"'):
        lsp2coco.main([str(tmp_path), '--num-train', '2'])

    bad = joints.copy()
    bad[2, 0, 0] = 2
    savemat(mat, {'joints': bad})
    with pytest.raises(ValueError, match='flags must be 0 or 1'):
        lsp2coco.main([str(tmp_path), '--num-train', '2'])

    savemat(mat, {'joints': joints})
    with pytest.raises(ValueError, match='4 images, but the first 4'):
        lsp2coco.main([str(tmp_path), '--num-train', '4'])

    (tmp_path / 'lsp_dataset' / 'images' / 'im0003.jpg').unlink()
    with pytest.raises(FileNotFoundError, match='im0003.jpg: image not found'):
        lsp2coco.main([str(tmp_path), '--num-train', '2'])

    mat.write_text('not a mat file')
    with pytest.raises(ValueError, match='joints.mat: not a readable MATLAB'):
        lsp2coco.main([str(tmp_path), '--num-train', '2'])

    with pytest.raises(FileNotFoundError, match='nowhere.*file not found'):
        lsp2coco.main([str(tmp_path), '--lsp-dir', str(tmp_path / 'nowhere')])


def test_flic_bad_inputs(tmp_path):
    make_flic(tmp_path / 'a', bad_field='istest')
    with pytest.raises(ValueError, match=r"examples.mat.*lacks the field\(s\) "
                       r"\['istest'\]"):
        flic2coco.main([str(tmp_path / 'a')])

    make_flic(tmp_path / 'b')
    (tmp_path / 'b' / 'images' / 'movie-00000001.jpg').unlink()
    with pytest.raises(FileNotFoundError,
                       match='1 images named in .*examples.mat are missing.*'
                       'movie-00000001.jpg'):
        flic2coco.main([str(tmp_path / 'b')])

    with pytest.raises(ValueError, match=r'examples\(2\).coords has shape '
                       r'\(2, 5\)'):
        flic2coco.example_keypoints('examples.mat', 1, np.zeros((2, 5)))


def test_converters_cli_help():
    out = subprocess.run(
        [sys.executable, '-m', 'mmpose_attn.tools.dataset_converters.lsp2coco',
         '--help'],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    assert 'LSP-extended' in out and '--no-lspet' in out
    with pytest.raises(SystemExit) as e:
        flic2coco.main(['--help'])
    assert e.value.code == 0
