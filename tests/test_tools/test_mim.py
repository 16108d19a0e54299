"""`mim train/test mmpose_attn` on the tiny toy config: train, test the
checkpoint, resume from it. Resuming reads the message hub's HistoryBuffer
and numpy arrays, which ``torch.load(weights_only=True)`` refuses unless
mmpose_attn registered them as safe globals."""
import glob
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'toy',
                'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')
MIM = [sys.executable, '-m', 'mim']  # this interpreter's mim


def run(args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def test_mim_train_test_resume(tmp_path):
    work = tmp_path / 'train'
    # cwd: the config's relative data_root renders the toy data in tmp_path
    out = run(MIM + ['train', 'mmpose_attn', TINY, '--work-dir', str(work)],
              tmp_path)
    assert re.search(r'Epoch\(train\)\s*\[1\]\[4/4\]', out)
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

    # Without mmpose_attn, PyTorch's default weights-only loading refuses
    # mmengine's checkpoint: resuming below depends on the package.
    check = subprocess.run(
        [sys.executable, '-c', f'import torch; torch.load({str(ckpt)!r})'],
        capture_output=True, text=True, timeout=300)
    assert check.returncode != 0
    assert 'Unsupported global' in check.stderr

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
