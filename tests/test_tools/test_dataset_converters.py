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
    assert '--val-count' in out and '--force' in out
    with pytest.raises(SystemExit) as e:
        flic2coco.main(['--help'])
    assert e.value.code == 0


# LSP-extended alone, split into training and validation images (issue 19):
# on a copy of the first 12 real images of ../shared/data/lspet_300.
@pytest.fixture
def lspet_12(lspet_300, tmp_path):
    """``tmp/lspet_dataset`` with lspet_300's first 12 images and their
    joints (14 x 3 x 12); image 1's right ankle is unlabelled (flag 0)."""
    lspet = osp.join(lspet_300, 'lspet_dataset')
    from scipy.io import loadmat
    joints = loadmat(osp.join(lspet, 'joints.mat'))['joints'][:, :, :12]
    root = tmp_path / 'lspet_dataset'
    (root / 'images').mkdir(parents=True)
    for i in range(1, 13):
        name = f'im{i:05d}.jpg'
        (root / 'images' / name).symlink_to(
            osp.join(lspet, 'images', name))
    savemat(root / 'joints.mat', {'joints': joints})
    return root, joints


def _split(root, out, val_count=4, seed=3, *extra):
    lsp2coco.main([
        '--lspet-dir', str(root), '--out-dir', str(out), '--val-count',
        str(val_count), '--split-seed', str(seed), *extra
    ])
    return (load(out / 'lspet_train.json'), load(out / 'lspet_val.json'))


def test_lspet_split_is_disjoint_reproducible_and_recorded(lspet_12,
                                                           tmp_path):
    root, joints = lspet_12
    train, val = _split(root, tmp_path / 'a')
    train_ids = [im['id'] for im in train['images']]
    val_ids = [im['id'] for im in val['images']]
    assert len(val_ids) == 4 and len(train_ids) == 8
    assert not set(train_ids) & set(val_ids)
    assert sorted(train_ids + val_ids) == list(range(10001, 10013))
    # the split in each file's info
    for coco, subset in ((train, 'train'), (val, 'val')):
        split = coco['info']['split']
        assert (split['seed'], split['subset']) == (3, subset)
        assert (split['train_ids'], split['val_ids']) == (train_ids, val_ids)
        assert split['num_images'] == 12
    # paths relative to the folder holding lspet_dataset/ (the data root)
    assert all(im['file_name'] == f'lspet_dataset/images/im{i - 10000:05d}'
               '.jpg' for im, i in zip(val['images'], val_ids))
    # the seed reproduces the split; another seed gives another one
    again = _split(root, tmp_path / 'b')[1]
    assert [im['id'] for im in again['images']] == val_ids
    other = _split(root, tmp_path / 'c', 4, 4)[1]
    assert [im['id'] for im in other['images']] != val_ids

    # image 1: the unlabelled right ankle (flag 0) is v = 0 at (0, 0); the
    # others are the .mat's 1-based coordinates minus 1, v = 2
    coco = train if 10001 in train_ids else val
    [ann] = [a for a in coco['annotations'] if a['image_id'] == 10001]
    kpts = np.array(ann['keypoints']).reshape(14, 3)
    assert kpts[0].tolist() == [0, 0, 0]
    np.testing.assert_allclose(kpts[1:, :2], joints[1:, :2, 0] - 1,
                               atol=1e-3)
    assert (kpts[1:, 2] == 2).all() and ann['num_keypoints'] == 13


def test_lspet_split_loads_in_lsp_dataset(lspet_12, tmp_path):
    from mmpose_attn.datasets import LspDataset
    root, joints = lspet_12
    train, val = _split(root, tmp_path / 'out')
    dataset = LspDataset(
        data_root=str(tmp_path),
        ann_file=str(tmp_path / 'out' / 'lspet_train.json'),
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=[])
    assert len(dataset) == 8
    infos = {dataset.get_data_info(i)['img_id']: dataset.get_data_info(i)
             for i in range(len(dataset))}
    for img_id, info in infos.items():
        assert osp.isfile(info['img_path'])
        flags = joints[:, 2, img_id - 10001]
        # flag 0 -> not visible, never trained on nor scored
        np.testing.assert_array_equal(info['keypoints_visible'][0], flags)


def test_lspet_split_bad_inputs(lspet_12, tmp_path):
    root, joints = lspet_12
    out = tmp_path / 'out'
    with pytest.raises(ValueError, match=r'joints.mat: --val-count must be '
                       r'.*below .*\(12 of 12\), got 12'):
        _split(root, out, 12)
    with pytest.raises(ValueError, match='got 0'):
        _split(root, out, 0)

    savemat(root / 'joints.mat', {'joints': joints.transpose(1, 0, 2)})
    with pytest.raises(ValueError, match=r'lspet_dataset/joints.mat: '
                       r'"joints" has shape \(3, 14, 12\), expected '
                       r'14 x 3 x N'):
        _split(root, out)
    savemat(root / 'joints.mat', {'joints': joints})

    (root / 'images' / 'im00005.jpg').unlink()
    with pytest.raises(FileNotFoundError,
                       match='images/im00005.jpg: image not found'):
        _split(root, out)
    # nothing is written before every image is found
    assert not list(out.glob('*.json'))


def test_lspet_split_never_overwrites_without_force(lspet_12, tmp_path):
    root, _ = lspet_12
    out = tmp_path / 'out'
    _split(root, out)
    (out / 'lspet_train.json').write_text('mine')
    with pytest.raises(FileExistsError, match='lspet_train.json exists'):
        _split(root, out, 4, 5)
    assert (out / 'lspet_train.json').read_text() == 'mine'
    _, val = _split(root, out, 4, 5, '--force')
    assert val['info']['split']['seed'] == 5
