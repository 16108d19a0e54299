import os
import os.path as osp

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')
SHARED_ROOT = os.environ.get('MMPOSE_ATTN_SHARED',
                             osp.join(osp.dirname(REPO_ROOT), 'shared'))
SAMPLES_ROOT = osp.join(SHARED_ROOT, 'data', 'mmpose_samples')

# The suite runs on 2 cores next to other work: keep torch from oversubscribing.
torch.set_num_threads(1)


def pytest_configure(config):
    import mmpose_attn  # noqa: F401  registers every module before tests run
    from mmpose.utils import register_all_modules
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def samples_root():
    """``../shared/data/mmpose_samples`` (real COCO/MPII/CrowdPose samples),
    or a skip when the project was cloned without ``shared/``."""
    if not osp.isdir(SAMPLES_ROOT):
        pytest.skip(f'real sample data not found at {SAMPLES_ROOT} '
                    '(clone the project beside shared/ or set '
                    'MMPOSE_ATTN_SHARED)')
    return SAMPLES_ROOT


@pytest.fixture(scope='session')
def config_root():
    return CONFIG_ROOT
