import os.path as osp

import pytest

# 300 real LSP-extended images with their joints.mat (../shared/data)
LSPET_300 = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
    'shared', 'data', 'lspet_300')


@pytest.fixture(scope='session')
def lspet_300():
    """``../shared/data/lspet_300``; the test is skipped without it."""
    if not osp.isdir(LSPET_300):
        pytest.skip(f'{LSPET_300} not found (the sample data of ../shared)')
    return LSPET_300


@pytest.fixture(scope='module')
def lspet_split(lspet_300, tmp_path_factory):
    """``lsp2coco``'s held-out split of ``lspet_300``: 294 training and 6
    validation images, split seed 0; (train file, val file)."""
    from mmpose_attn.tools.dataset_converters import lsp2coco
    out = tmp_path_factory.mktemp('lspet_split')
    lsp2coco.main([
        '--lspet-dir', osp.join(lspet_300, 'lspet_dataset'), '--out-dir',
        str(out), '--val-count', '6', '--split-seed', '0'
    ])
    return str(out / 'lspet_train.json'), str(out / 'lspet_val.json')
