"""The changes ``import mmpose_attn`` makes to MMPose, mmengine and torch are
logged once, switched off by their variables or ``undo_host_changes``, and
leave a stock MMPose config behaving as before."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpose
import mmpose_attn
from mmpose.registry import DATASETS, MODELS

NAMES = ['data_checks', 'checkpoint_guard', 'cpu_ddp', 'safe_globals']
ENVS = [
    'MMPOSE_ATTN_DATA_CHECKS', 'MMPOSE_ATTN_CHECKPOINT_GUARD',
    'MMPOSE_ATTN_CPU_DDP', 'MMPOSE_ATTN_SAFE_GLOBALS'
]

# Record the host's functions, import mmpose_attn twice, report which are
# still the originals.
PROBE = r'''
import torch
from mmengine.dist import utils as dist_utils
from mmengine.model.wrappers import MMDistributedDataParallel
from mmengine.runner import checkpoint as ckpt
from mmpose.datasets.datasets.base import BaseCocoStyleDataset as B
from mmpose.datasets.transforms import LoadImage

def state():
    return dict(
        data_checks=(B.load_data_list, B.filter_data, LoadImage.transform),
        checkpoint_guard=(ckpt.CheckpointLoader._schemes[''],
                          ckpt.load_state_dict),
        cpu_ddp=(dist_utils._init_dist_pytorch,
                 MMDistributedDataParallel.__init__),
        # torch adds its own (DTensor, ...) as modules load: watch ours
        safe_globals=any('HistoryBuffer' in str(g)
                         for g in torch.serialization.get_safe_globals()))

before = state()
import mmpose_attn
assert mmpose_attn.apply_host_changes() == []  # applied once only
after = state()
print('UNCHANGED', sorted(k for k in before if before[k] == after[k]))
print('APPLIED', sorted(k for k, v in mmpose_attn.host_changes().items() if v))
'''


def probe(**env):
    proc = subprocess.run([sys.executable, '-c', PROBE],
                          env=dict(os.environ, **env),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_each_change_is_applied_and_logged_once():
    out = probe()
    assert 'UNCHANGED []' in out
    assert f'APPLIED {sorted(NAMES)}' in out
    for name, env in zip(NAMES, ENVS):
        assert out.count(f'{env}=0 or mmpose_attn.undo_host_changes'
                         f"('{name}')") == 1, out


def test_variables_turn_the_changes_off():
    out = probe(**{env: '0' for env in ENVS})
    assert f'UNCHANGED {sorted(NAMES)}' in out
    assert 'APPLIED []' in out
    assert 'mmpose_attn: wrapped' not in out


def test_undo_names_are_checked():
    with pytest.raises(KeyError, match='unknown host change'):
        mmpose_attn.undo_host_changes('data_check')


STOCK = os.path.join(
    os.path.dirname(mmpose.__file__), '.mim', 'configs', 'body_2d_keypoint',
    'topdown_heatmap', 'coco', 'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')


def stock_samples_dataset(samples_root):
    cfg = Config.fromfile(STOCK)
    init_default_scope('mmpose')
    dataset = cfg.val_dataloader.dataset
    dataset.update(
        data_root=f'{samples_root}/coco/',
        ann_file='test_coco.json',
        bbox_file=None,
        data_prefix=dict(img=''))
    return cfg, DATASETS.build(dataset)


def test_stock_mmpose_config_behaves_as_before(samples_root, tmp_path):
    """MMPose's own HRNet COCO config on the COCO samples: same data, same
    network inputs and same loaded weights with and without the changes."""
    cfg, ds_with = stock_samples_dataset(samples_root)
    with_items = [ds_with[i] for i in range(len(ds_with))]
    model_with = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'stock.pth')
    torch.save(dict(state_dict=model_with.state_dict()), ckpt)
    from mmengine.runner import load_checkpoint
    load_checkpoint(model_with, ckpt, map_location='cpu')

    mmpose_attn.undo_host_changes()
    try:
        _, ds_without = stock_samples_dataset(samples_root)
        without_items = [ds_without[i] for i in range(len(ds_without))]
        model_without = MODELS.build(cfg.model)
        load_checkpoint(model_without, ckpt, map_location='cpu')
    finally:
        mmpose_attn.apply_host_changes()
    assert mmpose_attn.host_changes() == {name: True for name in NAMES}

    assert len(ds_with) == len(ds_without) == 12  # annotated persons
    for i in range(len(ds_with)):
        np.testing.assert_equal(ds_with.get_data_info(i),
                                ds_without.get_data_info(i))
    for a, b in zip(with_items, without_items):
        torch.testing.assert_close(a['inputs'], b['inputs'])
        np.testing.assert_array_equal(a['data_samples'].gt_instances.bboxes,
                                      b['data_samples'].gt_instances.bboxes)
    for (k, a), (_, b) in zip(model_with.state_dict().items(),
                              model_without.state_dict().items()):
        torch.testing.assert_close(a, b, msg=k)
