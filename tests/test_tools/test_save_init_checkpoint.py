import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpose.registry import MODELS

from mmpose_attn.tools.save_init_checkpoint import main

TINY = 'toy/td-hm_res18-tiny_1xb8-1e_toy-mpii-64x64.py'


def test_seeded_init_checkpoint_loads_strictly(tmp_path, config_root):
    config = osp.join(config_root, TINY)
    paths = [tmp_path / name for name in ('a.pth', 'b.pth', 'c.pth')]
    for path, seed in zip(paths, ('0', '0', '1')):
        main([config, str(path), '--seed', seed])
    a, b, c = (torch.load(p, map_location='cpu') for p in paths)
    assert a['meta']['epoch'] == 0 and a['meta']['seed'] == 0
    key = 'backbone.conv1.weight'
    torch.testing.assert_close(a['state_dict'][key], b['state_dict'][key])
    assert not torch.equal(a['state_dict'][key], c['state_dict'][key])

    model = MODELS.build(Config.fromfile(config).model)
    load_checkpoint(model, str(paths[0]), map_location='cpu', strict=True)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, a['state_dict'][k])
