"""`mim train mmpose_attn` from a regular (non-editable) install.

The editable install of the checkout is what the rest of the suite runs on
(and tests/test_tools/test_mim.py drives mim through it). Here the package
is built into a separate folder the way `pip install .` lays it out, and mim
finds both the tools (``mmpose_attn/tools/train.py``) and the configs
(``mmpose_attn/.mim/configs``, copied by setup.py) there.
"""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest


REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = 'toy/td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py'


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp('site')
    build = tmp_path_factory.mktemp('build')
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps',
        '--no-build-isolation', '--no-compile', '--target',
        str(target), REPO_ROOT
    ],
                   check=True,
                   cwd=str(build))
    return str(target)


def test_package_layout(installed):
    pkg = osp.join(installed, 'mmpose_attn')
    assert osp.isfile(osp.join(pkg, 'tools', 'train.py'))
    assert osp.isfile(osp.join(pkg, 'tools', 'test.py'))
    # every config of the checkout travels inside the package
    ours = {
        osp.relpath(p, osp.join(REPO_ROOT, 'configs'))
        for p in glob.glob(
            osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    }
    shipped = {
        osp.relpath(p, osp.join(pkg, '.mim', 'configs'))
        for p in glob.glob(
            osp.join(pkg, '.mim', 'configs', '**', '*.py'), recursive=True)
    }
    assert ours and ours <= shipped


def test_mim_train_from_regular_install(installed, tmp_path):
    env = dict(os.environ, PYTHONPATH=installed)
    work_dir = tmp_path / 'work'
    proc = subprocess.run(
        [
            sys.executable, '-m', 'mim', 'train', 'mmpose_attn', TINY,
            '--work-dir',
            str(work_dir), '--cfg-options',
            f'train_dataloader.dataset.data_root={tmp_path}/toy',
            f'val_dataloader.dataset.data_root={tmp_path}/toy',
            f'test_dataloader.dataset.data_root={tmp_path}/toy'
        ],
        cwd=str(tmp_path),  # not the checkout: the config comes from .mim
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # mim ran the installed copy's tools and config, not the checkout's
    pkg = osp.join(installed, 'mmpose_attn')
    assert osp.join(pkg, 'tools', 'train.py') in proc.stdout
    assert osp.join(pkg, '.mim', 'configs', TINY) in proc.stdout
    assert glob.glob(str(work_dir / 'epoch_1.pth'))
