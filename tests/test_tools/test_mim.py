"""`mim train/test mmpose_attn` on the tiny toy config: train, test the
checkpoint, resume from it. The checkpoints our runs write hold only types
that ``torch.load(weights_only=True)`` reads with nothing allowed, and
resuming restores the message hub's HistoryBuffers from them.

Every command runs in a temporary folder: the sample images are found inside
the package and the toy data is rendered into ``$MMPOSE_ATTN_CACHE``, so
nothing is read from or written to the current folder. ``mim search`` lists
every config of the model index.
"""
import glob
import json
import math
import os
import os.path as osp
import re
import runpy
import subprocess
import sys

import torch
import yaml

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'toy',
                'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')
MIM = [sys.executable, '-m', 'mim']  # this interpreter's mim


def run(args, cwd, **env):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO, **env)
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def test_mim_train_test_resume(tmp_path):
    work = tmp_path / 'train'
    cache = tmp_path / 'cache'
    out = run(MIM + ['train', 'mmpose_attn', TINY, '--work-dir', str(work)],
              tmp_path, MMPOSE_ATTN_CACHE=str(cache))
    assert re.search(r'Epoch\(train\)\s*\[1\]\[4/4\]', out)
    # the toy data went to the cache, not into the current folder
    assert sorted(os.listdir(tmp_path)) == ['cache', 'train']
    assert len(os.listdir(cache / 'toy_mpii')) == 2  # train and val splits
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    assert (work / 'last_checkpoint').read_text().strip() == str(ckpt)

    out = run(
        MIM + [
            'test', 'mmpose_attn', TINY, '--checkpoint',
            str(ckpt), '--work-dir',
            str(tmp_path / 'test')
        ], tmp_path)
    assert 'Evaluating MpiiPCKAccuracy' in out
    [metrics_file] = glob.glob(str(tmp_path / 'test' / '*' / '*.json'))
    with open(metrics_file) as f:
        metrics = json.load(f)
    for key in ('PCK', 'PCK@0.1', 'Head PCK', 'Ankle PCK'):
        assert math.isfinite(metrics[key]) and 0 <= metrics[key] <= 100

    # Plain PyTorch, without mmpose_attn and with its weights-only default,
    # reads the checkpoint: nothing needs allowing.
    check = subprocess.run(
        [sys.executable, '-c', f'import torch; torch.load({str(ckpt)!r})'],
        capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr

    out = run(
        MIM + [
            'train', 'mmpose_attn', TINY, '--work-dir',
            str(work), '--resume', '--cfg-options', 'train_cfg.max_epochs=2'
        ], tmp_path)
    assert f'Load checkpoint from {ckpt}' in out
    assert 'resumed epoch: 1, iter: 4' in out
    assert not re.search(r'Epoch\(train\)\s*\[1\]', out)
    assert re.search(r'Epoch\(train\)\s*\[2\]\[4/4\]', out)
    state = torch.load(work / 'epoch_2.pth', map_location='cpu')
    assert state['meta']['epoch'] == 2 and state['meta']['iter'] == 8
    assert 'optimizer' in state and 'message_hub' in state


SAMPLES_CONFIGS = [
    'sghrnet/sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py',
    'samkr/samkr_hrnet-tiny_1xb2-2e_coco-128x128.py',
]


def test_sample_configs_run_from_any_folder(tmp_path):
    """A tiny config on the shipped COCO samples trains (and validates)
    through mim, another through MMPose's own tools/train.py, from a folder
    that has nothing beside it (``mim test`` from such a folder: above)."""
    sghrnet, samkr = [osp.join(REPO, 'configs', c) for c in SAMPLES_CONFIGS]
    out = run(MIM + ['train', 'mmpose_attn', sghrnet, '--work-dir', 'w'],
              tmp_path)
    assert re.search(r'coco/AP: [\d.]+', out)

    import mmpose
    mmpose_train = osp.join(
        osp.dirname(mmpose.__file__), '.mim', 'tools', 'train.py')
    out = run([
        sys.executable, mmpose_train, samkr, '--work-dir', 's',
        '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1'
    ], tmp_path)
    assert osp.isfile(tmp_path / 's' / 'epoch_1.pth')
    assert sorted(os.listdir(tmp_path)) == ['s', 'w']


def index_configs():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    models = []
    for metafile in imports:
        with open(osp.join(REPO, metafile)) as f:
            meta = yaml.safe_load(f)
        assert meta['Collections'] and meta['Models'], metafile
        models += meta['Models']
    return models


def test_every_config_is_in_the_model_index():
    """Rerun ``python scripts/gen_model_index.py`` after adding a config."""
    generator = runpy.run_path(
        osp.join(REPO, 'scripts', 'gen_model_index.py'))
    models = index_configs()
    indexed = [m['Config'] for m in models]
    assert sorted(indexed) == sorted(generator['config_paths'](REPO))
    assert len({m['Name'] for m in models}) == len(models)
    for m in models:
        assert m['Metadata']['Parameters'] > 0
        assert m['Metadata']['FLOPs'] > 0
        assert m['Metadata']['Weights'].startswith('none')
        for result in m.get('Results', []):
            assert all(k.startswith('paper ') for k in result['Metrics'])


def test_mim_search_lists_the_configs():
    proc = subprocess.run(
        MIM + ['search', 'mmpose_attn', '--model', 'sghrnet',
               '--valid-config'],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    expected = [
        m['Name'] for m in index_configs()
        if m['Config'].startswith('configs/sghrnet/')
    ]
    listed = re.findall(r"'([^']+)'",
                        proc.stdout.split('valid config ids:')[-1])
    assert expected and sorted(listed) == sorted(expected)
