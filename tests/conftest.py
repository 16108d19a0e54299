import os.path as osp
import random

import numpy as np
import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')
# MMPose's test samples ship inside the package (mmpose_attn/data)
SAMPLES_ROOT = osp.join(REPO_ROOT, 'mmpose_attn', 'data', 'mmpose_samples')

# The suite runs on 2 cores next to other work: no torch oversubscription.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state, whichever xdist worker
    runs it and whatever ran before it there."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def pytest_configure(config):
    import mmpose_attn  # noqa: F401  registers every module before tests run
    from mmpose.utils import register_all_modules
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def samples_root():
    """``mmpose_attn/data/mmpose_samples``: real COCO/MPII/CrowdPose
    samples with their annotation files, part of the repository."""
    assert osp.isdir(SAMPLES_ROOT), f'{SAMPLES_ROOT} is missing'
    return SAMPLES_ROOT


@pytest.fixture(autouse=True, scope='session')
def _cache_in_tmp(tmp_path_factory):
    """Generated data (the toy renders) goes to a session folder, not the
    user's ``~/.cache/mmpose_attn``; subprocesses inherit the variable."""
    mp = pytest.MonkeyPatch()
    mp.setenv('MMPOSE_ATTN_CACHE', str(tmp_path_factory.mktemp('cache')))
    yield
    mp.undo()


@pytest.fixture(scope='session')
def config_root():
    return CONFIG_ROOT
