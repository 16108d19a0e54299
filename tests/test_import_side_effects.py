"""``import mmpose_attn`` registers classes and changes nothing else.

A stock MMPose config (SimpleBaseline, ResNet-18, on the COCO samples)
trains one epoch and validates in two fresh interpreters, one of which
imports the package first: the losses, metrics and weights are identical,
and no attribute of a torch/mmengine/mmcv/mmpose module or class loaded
before the import is replaced by it (among them the ones the package used
to patch). The import prints nothing.
"""
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

SCRIPT = r'''
import contextlib, io, json, os.path as osp, sys, types

import torch
import mmcv, mmengine
import mmpose, mmpose.apis, mmpose.codecs, mmpose.datasets, \
    mmpose.evaluation, mmpose.models, mmpose.visualization
from mmengine.config import Config
from mmengine.dist import utils as dist_utils
from mmengine.model.wrappers import MMDistributedDataParallel
from mmengine.runner import Runner, checkpoint as ckpt
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.datasets.transforms import LoadImage

HOSTS = ('torch', 'mmengine', 'mmcv', 'mmpose')
# the objects the package used to replace, named
NAMED = dict(
    schemes=lambda: dict(ckpt.CheckpointLoader._schemes),
    load_state_dict=lambda: ckpt.load_state_dict,
    LoadImage_transform=lambda: LoadImage.transform,
    load_data_list=lambda: BaseCocoStyleDataset.load_data_list,
    filter_data=lambda: BaseCocoStyleDataset.filter_data,
    init_dist_pytorch=lambda: dist_utils._init_dist_pytorch,
    ddp_init=lambda: MMDistributedDataParallel.__init__)


def host_attributes():
    """{(owner, name): value} for every module of the host libraries and
    every class defined in them."""
    found = {}
    for mod_name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or \
                mod_name.split('.')[0] not in HOSTS:
            continue
        for name, value in list(vars(module).items()):
            found[(mod_name, name)] = value
            if isinstance(value, type) and value.__module__ == mod_name:
                for attr, member in list(vars(value).items()):
                    found[(f'{mod_name}.{name}', attr)] = member
    return found


def same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a is b


def safe_globals():
    def name(g):
        if isinstance(g, tuple):  # (object, name it is pickled under)
            return f'{name(g[0])} as {g[1]}'
        return f'{g.__module__}.{g.__qualname__}'
    return sorted(map(name, torch.serialization.get_safe_globals()))


safe_before = safe_globals()
named_before = {k: f() for k, f in NAMED.items()}
attrs_before = host_attributes()
printed = ''
if sys.argv[1] == 'with':
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        import mmpose_attn  # noqa: F401
    printed = out.getvalue()
    assert 'PoseAttnRunner' in mmpose.registry.RUNNERS.module_dict
attrs_after = host_attributes()
replaced = sorted(
    f'{owner}.{name}' for (owner, name), value in attrs_before.items()
    if (owner, name) in attrs_after and attrs_after[(owner, name)] is not value
    and not name.startswith('__'))

# A stock config: MMPose's SimpleBaseline, shrunk to ResNet-18 at 64x64.
cfg = Config.fromfile(osp.join(
    osp.dirname(mmpose.__file__), '.mim', 'configs', 'body_2d_keypoint',
    'topdown_heatmap', 'coco', 'td-hm_res50_8xb64-210e_coco-256x192.py'))
samples = sys.argv[2]
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16),
             sigma=2)
cfg.model.backbone = dict(type='ResNet', depth=18)
cfg.model.head.in_channels = 512
cfg.model.head.deconv_out_channels = (32, 32, 32)
cfg.model.head.decoder = codec
cfg.model.test_cfg.flip_test = False
for split in ('train', 'val'):
    loader = cfg[f'{split}_dataloader']
    loader.batch_size = 2
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.dataset.data_root = samples
    loader.dataset.ann_file = 'test_coco.json'
    loader.dataset.data_prefix = dict(img='')
    loader.dataset.pop('bbox_file', None)
    for step in loader.dataset.pipeline:
        if step['type'] == 'GenerateTarget':
            step['encoder'] = codec
        if step['type'] == 'TopdownAffine':
            step['input_size'] = codec['input_size']
cfg.val_evaluator.ann_file = osp.join(samples, 'test_coco.json')
cfg.test_dataloader = cfg.val_dataloader
cfg.train_cfg.max_epochs = 1
cfg.default_hooks.logger.interval = 1
cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
cfg.default_hooks.visualization.enable = False
cfg.randomness = dict(seed=0)
cfg.work_dir = sys.argv[3]
cfg.log_level = 'ERROR'
runner = Runner.from_cfg(cfg)
runner.train()
loss = runner.message_hub.get_scalar('train/loss').data[0].tolist()
state = runner.model.state_dict()
saved = osp.join(sys.argv[3], 'epoch_1.pth')
try:
    torch.load(saved)
    stock_load = 'loaded'
except Exception as e:
    stock_load = type(e).__name__
print('RESULT ' + json.dumps(dict(
    printed=printed,
    safe_globals_before=safe_before,
    safe_globals_after=safe_globals(),
    named_unchanged={k: same(v, NAMED[k]()) for k, v in named_before.items()},
    replaced=replaced,
    loss=loss,
    val={k: float(v) for k, v in runner.val_loop.run().items()},
    weights={k: v.double().sum().item() for k, v in state.items()},
    stock_load=stock_load)))
'''


def start(mode, tmp_path, samples_root):
    script = tmp_path / 'stock_run.py'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, str(script), mode,
         osp.join(samples_root, 'coco'),
         str(tmp_path / mode)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def result(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, (out + err)[-5000:]
    [line] = [l for l in out.splitlines() if l.startswith('RESULT ')]
    return json.loads(line[len('RESULT '):])


def test_import_changes_nothing_but_the_registries(tmp_path, samples_root):
    (tmp_path / 'stock_run.py').write_text(SCRIPT)
    # both at once: two cores
    procs = [start(mode, tmp_path, samples_root) for mode in ('without',
                                                              'with')]
    without, with_pkg = [result(p) for p in procs]

    assert with_pkg['printed'] == ''
    assert with_pkg['safe_globals_after'] == with_pkg['safe_globals_before']
    assert with_pkg['safe_globals_after'] == without['safe_globals_after']
    assert all(with_pkg['named_unchanged'].values()), \
        with_pkg['named_unchanged']
    assert with_pkg['replaced'] == [], with_pkg['replaced']

    # the same run, to the last bit
    assert len(without['loss']) == 6  # one epoch of the samples, batch 2
    assert with_pkg['loss'] == without['loss']
    assert with_pkg['val'] == without['val']
    assert set(without['val']) >= {'coco/AP', 'coco/AR'}
    assert with_pkg['weights'] == without['weights']
    # mmengine's checkpoint under torch's weights-only default: refused in
    # both (the package widens nothing)
    assert with_pkg['stock_load'] == without['stock_load'] == \
        'UnpicklingError'
