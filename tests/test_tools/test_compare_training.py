"""The side-by-side training comparison: its overfit protocol, its table and
one end-to-end run through the command line."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmpose.registry import DATASETS
from mmpose_attn.tools.analysis import compare_training as ct

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
SPCNET = osp.join(
    CONFIG_ROOT, 'spcnet', 'cpu_tier',
    'spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_mpii-128x128.py')
SPCNET_LSP = SPCNET.replace('_mpii-', '_lsp-')
SAMKR = osp.join(CONFIG_ROOT, 'samkr', 'cpu_tier',
                 'samkr_hrnet-w8-small-cpu-tier_1xb16-140e_coco-256x256.py')


def test_overfit_config_trains_and_tests_on_the_five_mpii_samples():
    cfg = ct.overfit_config(Config.fromfile(SPCNET))
    assert cfg.train_dataloader.batch_size == 5
    assert cfg.val_evaluator == dict(
        type='PCKAccuracy', thr=0.2, norm_item='bbox')
    train = cfg.train_dataloader.dataset
    # the config's pipeline, without its random augmentation
    assert [t['type'] for t in train.pipeline] == [
        'LoadImage', 'GetBBoxCenterScale', 'TopdownAffine', 'GenerateTarget',
        'PackPoseInputs'
    ]
    train_set = DATASETS.build(train)
    test_set = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(train_set) == len(test_set) == 5
    assert {osp.basename(train_set.get_data_info(i)['img_path'])
            for i in range(5)} == {
                '004645041.jpg', '005808361.jpg', '051423444.jpg',
                '052475643.jpg', '060754485.jpg'}


def test_overfit_config_maps_the_samples_to_lsp_joints():
    cfg = Config.fromfile(SPCNET_LSP)
    test_set = DATASETS.build(ct.overfit_config(cfg).val_dataloader.dataset)
    sample = test_set[0]
    assert test_set.metainfo['dataset_name'] == 'lsp'
    # LSP's 14 joints, through the config's own MPII -> LSP converter
    assert sample['data_samples'].gt_instances.keypoints.shape == (1, 14, 2)


def test_overfit_refuses_bottom_up_configs():
    with pytest.raises(ValueError, match='samkr_hrnet-w8.*bottomup'):
        ct.overfit_config(Config.fromfile(SAMKR))


def test_summary_means_and_spreads_over_seeds():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(save_best='PCK'))))
    records = [
        dict(metrics_before=dict(PCK=0.1, other=1.),
             metrics_after=dict(PCK=0.5, other=1.), s_per_iter=2.,
             peak_mb=10.),
        dict(metrics_before=dict(PCK=0.3, other=1.),
             metrics_after=dict(PCK=0.9, other=1.), s_per_iter=4.,
             peak_mb=30.),
    ]
    row = ct.summarise('a/b.py', cfg, records, None)
    assert row['metric'] == 'PCK'  # the config's save_best, not the first
    np.testing.assert_allclose(row['before'], (0.2, 0.02**0.5))
    np.testing.assert_allclose(row['after'], (0.7, 0.08**0.5))
    np.testing.assert_allclose(row['gain'], (0.5, 0.02**0.5))
    assert (row['s_per_iter'], row['peak_mb']) == (3., 30.)
    table = ct.format_table([row], 60, overfit=True)
    assert '| b | PCK | 0.200 ± 0.141 | 0.700 ± 0.283 | 0.500 ± 0.141 | - | ' \
        '3.000 | 30 |' in table
    with pytest.raises(KeyError, match='AP'):
        ct.summarise('a/b.py', cfg, records, 'AP')


def _record(seed, before, after, key='PCK'):
    # metrics come from numpy, as MMPose's evaluators give them
    return dict(seed=seed, metrics_before={key: np.float64(before)},
                metrics_after={key: np.float64(after)}, s_per_iter=1.,
                peak_mb=None)


def test_gains_are_compared_with_the_first_row_seed_by_seed():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(save_best='PCK'))))
    # gains: first row 0.4, 0.2, 0.6; second 0.5, 0.1, 0.6 (seed order
    # shuffled: pairing is by seed, not by position)
    first = ct.summarise('x/first.py', cfg, [
        _record(0, 0.1, 0.5), _record(1, 0.0, 0.2), _record(2, 0.2, 0.8)
    ], None)
    second = ct.summarise('x/second.py', cfg, [
        _record(2, 0.1, 0.7), _record(0, 0.0, 0.5), _record(1, 0.3, 0.4)
    ], None)
    other = ct.summarise('x/other.py', Config(), [_record(0, 0., 1., 'AP')],
                         None)
    ct.add_paired_differences([first, second, other])
    # differences 0.1, -0.1, 0.0: mean 0, std 0.1; not below in 2 of 3
    np.testing.assert_allclose(second['gain_vs_first'], (0.0, 0.1),
                               atol=1e-12)
    assert second['seeds_not_below_first'] == (2, 3)
    assert type(second['seeds_not_below_first'][0]) is int  # JSON: a number
    # the first row and a row with another metric are not compared
    assert first['gain_vs_first'] is None and other['gain_vs_first'] is None
    table = ct.format_table([first, second, other], 60, overfit=True)
    assert '| second | PCK | 0.133 ± 0.153 | 0.533 ± 0.153 | 0.400 ± 0.265 ' \
        '| 0.000 ± 0.100 (2/3) | 1.000 | - |' in table
    assert '| first | PCK | 0.100 ± 0.100 | 0.500 ± 0.300 | 0.400 ± 0.200 ' \
        '| - |' in table


def test_command_line_run_writes_table_json_and_picture(tmp_path, capsys):
    out = tmp_path / 'out'
    ct.main([SPCNET, '--iters', '2', '--seeds', '2', '--overfit', '--out',
             str(out), '--cfg-options', 'model.test_cfg.flip_test=False'])
    printed = capsys.readouterr().out
    name = osp.splitext(osp.basename(SPCNET))[0]
    with open(out / 'results.md') as f:
        table = f.read()
    assert table.strip() in printed
    assert f'| {name} | PCK |' in table
    with open(out / 'results.json') as f:
        result = json.load(f)
    [row] = result['rows']
    assert (result['iters'], result['seeds'], result['overfit']) == (2, 2,
                                                                     True)
    seed0, seed1 = row['records']
    # a seed fixes the initialisation: seeds differ, so do their models
    assert seed0['loss_first'] != seed1['loss_first']
    for record in row['records']:
        assert 0 <= record['metrics_before']['PCK'] <= 1
        assert record['s_per_iter'] > 0
    for seed in (0, 1):
        # each job logs to its own work dir: PCK before and after, once each
        [scalars] = (out / name / f'seed{seed}').glob(
            '*/vis_data/scalars.json')
        with open(scalars) as f:
            logged = [json.loads(line) for line in f]
        assert sum('PCK' in entry for entry in logged) == 2
    # the picture: prediction above the SIM weights (4 levels + argmax)
    picture = cv2.imread(str(out / f'{name}.png'))
    assert picture is not None and picture.shape[0] > 2 * 256
    assert not (picture == 255).all(axis=-1)[300:].all()
