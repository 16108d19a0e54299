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
    # the model index and the sample images travel too
    assert osp.isfile(osp.join(pkg, '.mim', 'model-index.yml'))
    for sub in ('coco/test_coco.json', 'mpii/test_mpii.json',
                'crowdpose/test_crowdpose.json', 'coco/000000000785.jpg'):
        assert osp.isfile(osp.join(pkg, 'data', 'mmpose_samples', sub)), sub


def test_mim_train_from_regular_install(installed, tmp_path):
    env = dict(
        os.environ,
        PYTHONPATH=installed,
        MMPOSE_ATTN_CACHE=str(tmp_path / 'cache'))
    work_dir = tmp_path / 'work'
    proc = subprocess.run(
        [
            sys.executable, '-m', 'mim', 'train', 'mmpose_attn', TINY,
            '--work-dir',
            str(work_dir)
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


def test_samples_and_index_from_regular_install(installed, tmp_path):
    """A samples config from ``.mim/configs`` reads the images shipped in the
    installed package; ``mim search`` reads ``.mim/model-index.yml``."""
    env = dict(os.environ, PYTHONPATH=installed)
    pkg = osp.join(installed, 'mmpose_attn')
    config = osp.join(pkg, '.mim', 'configs', 'sghrnet',
                      'sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py')
    code = ('from mmengine.config import Config; import mmpose_attn; '
            f'cfg = Config.fromfile({config!r}); '
            'print(mmpose_attn.__file__); '
            'print(cfg.train_dataloader.dataset.data_root)')
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    package_file, data_root = proc.stdout.split()[-2:]
    assert package_file == osp.join(pkg, '__init__.py')
    assert data_root == osp.join(pkg, 'data', 'mmpose_samples', 'coco', '')
    assert osp.isfile(osp.join(data_root, 'test_coco.json'))

    proc = subprocess.run(
        [sys.executable, '-m', 'mim', 'search', 'mmpose_attn', '--model',
         'sghrnet', '--valid-config'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'sghrnet_hrnet-tiny_1xb2-1e_coco-128x96' in proc.stdout
