"""2-process DDP training on CPU (gloo) through ``mim train mmpose_attn``
(MMPose's tools/train.py arguments, the config's ``PoseAttnRunner``), as
``--launcher pytorch`` runs it on a GPU cluster; mmengine's functions are
not patched (tests/test_import_side_effects.py)."""
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpose.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'mmpose_attn', 'tools', 'train.py')
TINY = osp.join(REPO, 'configs', 'toy',
                'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')


def test_two_process_ddp_training_on_cpu(tmp_path):
    work = tmp_path / 'work'
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--standalone',
        '--nproc_per_node=2', TRAIN, TINY, '--launcher', 'pytorch',
        '--work-dir',
        # MMPose's dist_cfg says nccl: PoseAttnRunner forms a gloo group
        # without CUDA (runner_type in configs/_base_/default_runtime.py)
        str(work), '--cfg-options',
        # DEBUG makes mmengine write one log file per rank
        'log_level=DEBUG', 'randomness.seed=0'
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    # the toy data is rendered once into $MMPOSE_ATTN_CACHE (conftest)
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]

    logs = sorted(glob.glob(str(work / '*' / '*_rank*.log')))
    assert [re.search(r'rank(\d)\.log$', f).group(1) for f in logs] == \
        ['0', '1'], logs
    for log in logs:
        with open(log) as f:
            text = f.read()
        # 32 images, batch 8, split over 2 ranks: 2 iterations each
        assert re.search(r'Epoch\(train\)\s*\[1\]\[2/2\]', text), text[-3000:]
        assert not re.search(r'\[\d+/4\]', text)
    with open(logs[0]) as f:
        assert re.search(r'Distributed training: True', f.read())

    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    assert (work / 'last_checkpoint').read_text().strip() == str(ckpt)
    state = torch.load(ckpt, map_location='cpu')
    assert state['meta']['epoch'] == 1 and state['meta']['iter'] == 2
    assert not any(k.startswith('module.') for k in state['state_dict'])

    cfg = Config.fromfile(TINY)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(ckpt), map_location='cpu', strict=True)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, state['state_dict'][k])
