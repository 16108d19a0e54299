"""No tool of ours overwrites a file without ``--force``; the refusal comes
before any slow work and names the file. ``save_init_checkpoint`` prints
one line, not mmengine's per-parameter initialisation log."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmpose_attn.tools._output import add_force_argument, check_output_path

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'toy',
                'td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py')
SAMKR_TINY = osp.join(REPO, 'configs', 'samkr',
                      'samkr_hrnet-tiny_1xb2-2e_coco-128x128.py')
SPCNET_TINY = osp.join(REPO, 'configs', 'spcnet',
                       'spcnet_dilated-hourglass2-tiny_1xb2-2e_toy-64x64.py')


def test_check_output_path(tmp_path):
    import argparse
    parser = argparse.ArgumentParser()
    add_force_argument(parser)
    assert parser.parse_args([]).force is False
    assert parser.parse_args(['--force']).force is True
    out = tmp_path / 'a' / 'b' / 'x.pth'
    assert check_output_path(str(out), False) == out
    assert out.parent.is_dir()  # parents created
    out.write_text('trained')
    with pytest.raises(FileExistsError) as err:
        check_output_path(str(out), False)
    assert str(err.value) == f'{out} exists: pass --force to overwrite it'
    assert check_output_path(out, True) == out


def _run(args, **kwargs):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    # mmengine logs the config's use of the cache variable: not the tool's
    env.pop('MMPOSE_ATTN_CACHE', None)
    return subprocess.run([sys.executable, '-m'] + args, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600,
                          **kwargs)


def test_save_init_checkpoint_cli_refuses_and_prints_one_line(tmp_path):
    out = tmp_path / 'trained.pth'
    proc = _run(['mmpose_attn.tools.save_init_checkpoint', SPCNET_TINY,
                 str(out)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(lines) == 1, lines[:20]
    assert lines[0].startswith('saved the initial weights of ') and \
        lines[0].endswith(f'parameters, seed 0) to {out}')
    # a "trained" checkpoint is not replaced by random weights
    torch.save({'state_dict': {}, 'meta': {'epoch': 210}}, out)
    before = out.read_bytes()
    proc = _run(['mmpose_attn.tools.save_init_checkpoint', SPCNET_TINY,
                 str(out), '--seed', '1'])
    assert proc.returncode == 1
    assert f'FileExistsError: {out} exists: pass --force to overwrite it' \
        in proc.stderr
    assert out.read_bytes() == before
    proc = _run(['mmpose_attn.tools.save_init_checkpoint', SPCNET_TINY,
                 str(out), '--force'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert torch.load(out, map_location='cpu')['meta']['epoch'] == 0


@pytest.fixture
def existing(tmp_path):
    """A file the user made, and its bytes."""
    path = tmp_path / 'mine.png'
    path.write_bytes(b'my picture')
    return path


def _refused(main, argv, path):
    with pytest.raises(FileExistsError,
                       match=f'{path} exists: pass --force'):
        main(argv)
    assert path.read_bytes() == b'my picture'


def test_visualize_tools_refuse(existing, samples_root, tmp_path):
    from mmpose_attn.tools import (visualize_sg, visualize_sim,
                                   visualize_subspace_attention)
    from mmpose_attn.tools.analysis import training_pictures
    img = osp.join(samples_root, 'coco', '000000000785.jpg')
    ckpt = tmp_path / 'any.pth'
    ckpt.write_bytes(b'')  # refused before the checkpoint is read
    for tool in (visualize_sim, visualize_sg, visualize_subspace_attention):
        _refused(tool.main, [TINY, str(ckpt), img, '--out', str(existing)],
                 existing)
    _refused(training_pictures.main,
             [TINY, str(ckpt), '--out', str(existing)], existing)


def test_train_rescore_net_refuses(tmp_path, samples_root):
    from mmpose_attn.tools import train_rescore_net
    existing = tmp_path / 'rescore_net.pth'
    existing.write_bytes(b'my picture')
    _refused(train_rescore_net.main,
             [SAMKR_TINY, str(tmp_path / 'model.pth'), '--work-dir',
              str(tmp_path)], existing)


def test_flic2coco_refuses(tmp_path):
    from mmpose_attn.tools.dataset_converters import flic2coco
    existing = tmp_path / 'annotations' / 'flic_test.json'
    existing.parent.mkdir()
    existing.write_bytes(b'my picture')
    # refused before examples.mat (absent here) is read
    _refused(flic2coco.main, [str(tmp_path)], existing)
