"""What every config of the package must keep, whatever its paper."""
import ast
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
ALL_FILES = sorted(
    glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True))
CONFIGS = [
    p for p in ALL_FILES
    if '_base_' not in osp.relpath(p, CONFIG_ROOT).split(osp.sep)
]
# MMPose's names: {algo}_{backbone}_[{modifier}-]{N}xb{B}-{E}e_{data}-{H}x{W}
# (td-hm_hrnet-w32_dark-8xb64-210e_mpii-256x256.py), slots without
# underscores, plus a test-time or recipe suffix after the size
# (td-hm_mobilenetv2_8xb64-210e_mpii-256x256_badcase.py; here _ms6-flip-test,
# _own-rescore, _sghrnet-recipe).
NAME = re.compile(r'^(?P<algo>[a-z0-9-]+)_(?P<backbone>[a-z0-9-]+)_'
                  r'(?:[a-z0-9-]+-)?(?P<gpus>\d+)xb(?P<batch>\d+)-'
                  r'(?P<epochs>\d+)e_(?P<data>[a-z0-9-]+)-'
                  r'(?P<h>\d+)x(?P<w>\d+)(?:_[a-z0-9-]+)?\.py$')
PAPERS = ('spcnet', 'sadinet', 'sghrnet', 'samkr')
# baselines: MMPose's top-down heatmap models (td-hm_*) and DEKR
BASELINES = ('td-hm', 'dekr')


def _algo(path):
    """The algorithm slot without its variant: 'sadinet' for
    sadinet-sum-loss_*, 'td-hm' for td-hm_*; None for the shared _base_
    files (recipes and data)."""
    if '_base_' in osp.relpath(path, CONFIG_ROOT).split(osp.sep):
        return None
    algo = osp.basename(path).split('_')[0]
    return 'td-hm' if algo == 'td-hm' else algo.split('-')[0]


def _bases(path):
    """The project config files ``path`` inherits, directly or not
    (``mmpose::`` configs are MMPose's own)."""
    tree = ast.parse(open(path).read())
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(
                node.targets[0], 'id', None) == '_base_':
            names = ast.literal_eval(node.value)
            for name in [names] if isinstance(names, str) else names:
                if '::' not in name:
                    base = osp.normpath(osp.join(osp.dirname(path), name))
                    found += [base] + _bases(base)
    return found


def _deletes_model_parts(path):
    """Whether the file's own ``model`` dict throws inherited parts away
    (``_delete_`` anywhere inside it)."""
    source = open(path).read()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(
                node.targets[0], 'id', None) == 'model':
            if '_delete_' in ast.get_source_segment(source, node):
                return True
    return False


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if _algo(p) in BASELINES],
    ids=lambda p: osp.relpath(p, CONFIG_ROOT))
def test_baselines_stand_alone(path):
    """A baseline inherits MMPose's own config, a shared _base_ recipe or
    another baseline, never a paper config (it writes its model out instead
    of taking a paper model's parts away)."""
    papers = [
        osp.relpath(b, CONFIG_ROOT) for b in _bases(path)
        if _algo(b) in PAPERS
    ]
    assert not papers, f'inherits the paper config(s) {papers}'


@pytest.mark.parametrize(
    'path', ALL_FILES, ids=lambda p: osp.relpath(p, CONFIG_ROOT))
def test_no_config_deletes_parts_of_a_paper_model(path):
    """A variant of a paper config overrides what differs; a model that
    replaces a paper model's parts is written out on a shared _base_
    (swapping a part of one of MMPose's own configs is fine)."""
    if any(_algo(b) in PAPERS for b in _bases(path)):
        assert not _deletes_model_parts(path)


def test_lsp_mpii_training_set_is_defined_once():
    combined = osp.join(CONFIG_ROOT, '_base_', 'datasets',
                        'lsp_mpii_combined.py')
    for needle in ('CombinedDataset', 'KeypointConverter',
                   'lsp_train.json'):
        assert [p for p in ALL_FILES
                if needle in open(p).read()] == [combined], needle
    users = [
        p for p in CONFIGS if '_lsp-' in p and Config.fromfile(
            p).train_dataloader.dataset.type == 'CombinedDataset'
    ]
    assert {osp.basename(p).split('_')[0] for p in users} >= {
        'spcnet', 'sadinet', 'sghrnet', 'td-hm'
    }


@pytest.fixture(scope='module')
def runtime():
    return Config.fromfile(osp.join(CONFIG_ROOT, '_base_',
                                    'default_runtime.py'))


def test_every_paper_has_configs():
    folders = {osp.relpath(p, CONFIG_ROOT).split(osp.sep)[0] for p in CONFIGS}
    assert {'spcnet', 'sadinet', 'sghrnet', 'samkr', 'toy'} <= folders
    for folder in folders - {'toy'}:
        assert osp.isfile(osp.join(CONFIG_ROOT, folder, 'README.md'))


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, CONFIG_ROOT) for p in CONFIGS])
def test_config_keeps_the_conventions(path, runtime):
    name = NAME.match(osp.basename(path))
    assert name, f'{path}: not MMPose naming'
    cfg = Config.fromfile(path)
    # the name says the batch per GPU, the epochs and the input size
    assert cfg.train_dataloader.batch_size == int(name['batch'])
    assert cfg.train_cfg.max_epochs == int(name['epochs'])
    if 'codec' in cfg:
        w, h = cfg.codec.input_size
        assert (h, w) == (int(name['h']), int(name['w']))
    # loads the package and fails fast on a checkpoint of another model
    assert cfg.default_scope == 'mmpose'
    assert cfg.custom_imports == runtime.custom_imports
    assert cfg.custom_hooks == runtime.custom_hooks
    # MMPoseInferencer reads the top-level data_mode
    assert cfg.data_mode == cfg.test_dataloader.dataset.get(
        'data_mode', 'topdown')
