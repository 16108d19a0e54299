"""The side-by-side training comparison: its overfit protocol, its table,
held-out validation on a split of real LSP-extended images, resuming, and
end-to-end runs through the command line."""
import json
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
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


def test_jobs_drop_every_pretrained_initialisation():
    cfg = dict(
        backbone=dict(init_cfg=[
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Pretrained', checkpoint='a.pth')
        ], pretrained='b.pth'),
        neck=dict(init_cfg=dict(type='Normal', std=0.01)),
        head=dict(sub=[dict(init_cfg=dict(type='Pretrained', prefix='x'))]))
    ct.drop_pretrained(cfg)
    assert cfg == dict(
        backbone=dict(init_cfg=[dict(type='Kaiming', layer='Conv2d')],
                      pretrained=None),
        neck=dict(init_cfg=dict(type='Normal', std=0.01)),
        head=dict(sub=[dict(init_cfg=None)]))


@pytest.mark.parametrize('sign', [1, -1])
def test_curves_draw_a_loss_below_zero(tmp_path, sign):
    """A likelihood loss (SADI-Net's DLM) goes below 0: its curve is drawn
    as a positive one is, not dropped by a log axis."""
    curve = [dict(iter=i, metrics=dict(PCK=0.1 * i)) for i in (0, 5, 10)]
    losses = list(sign * np.geomspace(1., 1e-2, 100))
    row = dict(config='a/b.py', metric='PCK',
               records=[dict(curve=curve, losses=losses)])
    ct.draw_curves([row], str(tmp_path / 'curves.png'))
    picture = cv2.imread(str(tmp_path / 'curves.png'))
    # C0's blue (BGR 180, 119, 31) in the loss panel, the right half
    loss_panel = picture[:, picture.shape[1] // 2:].astype(int)
    blue = (np.abs(loss_panel - (180, 119, 31)).sum(-1) < 60).sum()
    assert blue > 300


def test_summary_means_and_spreads_over_seeds():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(save_best='PCK'))))
    records = [
        dict(seed=0, metrics_before=dict(PCK=0.1, other=1.),
             metrics_after=dict(PCK=0.5, other=1.), s_per_iter=2.,
             peak_mb=10.,
             curve=[dict(iter=i, metrics=dict(PCK=v, other=1.))
                    for i, v in ((0, 0.1), (5, 0.6), (10, 0.5))]),
        dict(seed=1, metrics_before=dict(PCK=0.3, other=1.),
             metrics_after=dict(PCK=0.9, other=1.), s_per_iter=4.,
             peak_mb=30.),  # no curve: best of before and after
    ]
    row = ct.summarise('a/b.py', cfg, records, None)
    assert row['metric'] == 'PCK'  # the config's save_best, not the first
    np.testing.assert_allclose(row['before'], (0.2, 0.02**0.5))
    # best: 0.6 (iteration 5, not the final 0.5) and 0.9
    np.testing.assert_allclose(row['best'], (0.75, 0.045**0.5))
    np.testing.assert_allclose(row['after'], (0.7, 0.08**0.5))
    assert (row['s_per_iter'], row['peak_mb']) == (3., 30.)
    table = ct.format_table([row], 60, 'the samples')
    assert table.startswith('60 iterations, seeds 0, 1 (mean ± std over '
                            'seeds), the samples')
    assert ('| b | PCK | 0.200 ± 0.141 | 0.750 ± 0.212 | 0.700 ± 0.283 | - '
            '| 2 | 3.000 | 30 |') in table
    with pytest.raises(KeyError, match='AP'):
        ct.summarise('a/b.py', cfg, records, 'AP')


def test_t_interval():
    # 1, 2, 3: mean 2, std 1, t(0.975, 2 dof) = 4.302653 -> half 2.484138
    mean, (low, high) = ct.t_interval([3., 1., 2.])
    assert mean == 2.
    np.testing.assert_allclose((low, high), (2 - 2.484138, 2 + 2.484138),
                               atol=1e-6)
    assert np.isnan(ct.t_interval([1.])[1]).all()


def _record(seed, before, after, key='PCK'):
    # metrics come from numpy, as MMPose's evaluators give them
    return dict(seed=seed, metrics_before={key: np.float64(before)},
                metrics_after={key: np.float64(after)}, s_per_iter=1.,
                peak_mb=None)


def test_final_metrics_are_compared_with_the_first_row_seed_by_seed():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(save_best='PCK'))))
    # finals: first row 0.5, 0.2, 0.8; second 0.5, 0.4, 0.7 (seed order
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
    # differences 0.0, 0.2, -0.1: mean 1/30, std 0.152753, 95% half width
    # 4.302653 * 0.152753 / sqrt(3) = 0.379458; not below in 2 of 3
    mean, interval = second['after_vs_first']
    assert mean == pytest.approx(1 / 30)
    np.testing.assert_allclose(interval, (1 / 30 - 0.379458,
                                          1 / 30 + 0.379458), atol=1e-6)
    assert second['seeds_not_below_first'] == (2, 3)
    assert second['after_vs_first_seeds'] == [0, 1, 2]
    assert type(second['seeds_not_below_first'][0]) is int  # JSON: a number
    # the first row and a row with another metric are not compared
    assert first['after_vs_first'] is None and other['after_vs_first'] is None
    table = ct.format_table([first, second, other], 60, 'the samples')
    assert ('| second | PCK | 0.133 ± 0.153 | 0.533 ± 0.153 | 0.533 ± 0.153 '
            '| +0.033 [-0.346, +0.413] (2/3) | 3 | 1.000 | - |') in table
    assert ('| first | PCK | 0.100 ± 0.100 | 0.500 ± 0.300 | 0.500 ± 0.300 '
            '| - |') in table


def test_command_line_run_writes_table_json_and_picture(tmp_path, capsys):
    out = tmp_path / 'out'
    ct.main([SPCNET, '--iters', '2', '--seeds', '0', '1', '--overfit', '--out',
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
    assert (result['iters'], result['seeds'], result['overfit']) == (
        2, [0, 1], True)
    seed0, seed1 = row['records']
    # a seed fixes the initialisation: seeds differ, so do their models
    assert seed0['loss_first'] != seed1['loss_first']
    for record in row['records']:
        assert 0 <= record['metrics_before']['PCK'] <= 1
        assert record['s_per_iter'] > 0
        assert record['threads'] == torch.get_num_threads()
    # at the same thread count a seed reproduces its run bit for bit
    ct.main([SPCNET, '--iters', '2', '--seeds', '0', '--overfit', '--out',
             str(tmp_path / 'again'), '--no-pictures', '--cfg-options',
             'model.test_cfg.flip_test=False'])
    with open(tmp_path / 'again' / 'results.json') as f:
        [again] = json.load(f)['rows'][0]['records']
    assert again['losses'] == seed0['losses']
    assert again['metrics_after'] == seed0['metrics_after']
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


# Held-out validation on real LSP-extended images (issue 19): 294 training
# and 6 validation images of ../shared/data/lspet_300.
BASELINE_LSP = osp.join(CONFIG_ROOT, 'spcnet', 'cpu_tier',
                        'td-hm_hourglass2-cpu-tier_1xb16-170e_lsp-128x128.py')
QUICK = [
    '--batch-size', '4', '--no-pictures', '--device', 'cpu', '--cfg-options',
    'model.test_cfg.flip_test=False', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False'
]


def test_heldout_run_validates_on_the_val_images_only(lspet_300, lspet_split,
                                                      tmp_path, capsys):
    train_ann, val_ann = lspet_split
    with open(val_ann) as f:
        val_ids = sorted(im['id'] for im in json.load(f)['images'])
    out = tmp_path / 'out'
    args = [
        SPCNET_LSP, BASELINE_LSP, '--data-root', lspet_300, '--train-ann',
        train_ann, '--val-ann', val_ann, '--iters', '2', '--val-interval',
        '1', '--seeds', '0', '1', '--out', str(out), *QUICK
    ]
    rows = ct.main(args)
    printed = capsys.readouterr().out
    with open(out / 'results.md') as f:
        table = f.read()
    assert table.strip() in printed
    assert 'validated on' in table and 'PCK@0.2 (torso)' in table
    with open(out / 'results.json') as f:
        result = json.load(f)
    assert result['complete'] and result['seeds'] == [0, 1]
    assert [r['config'] for r in result['rows']] == [SPCNET_LSP, BASELINE_LSP]
    for row in rows:
        assert row['metric'] == 'PCK'
        for record in row['records']:
            # validated before training and after iterations 1 and 2, on
            # exactly the images of the val file
            assert [p['iter'] for p in record['curve']] == [0, 1, 2]
            assert record['val_img_ids'] == val_ids
            assert 0 <= record['metrics_after']['PCK'] <= 100
            assert len(record['losses']) == 2
            assert (out / 'runs' / ct._name(row['config']) /
                    f'seed{record["seed"]}.json').is_file()
    name = ct._name(BASELINE_LSP)
    # paired by seed against the first config, with a 95% interval
    assert rows[1]['after_vs_first_seeds'] == [0, 1]
    assert np.isfinite(rows[1]['after_vs_first'][1]).all()
    paired = rf'\| {name} \| PCK \|.* \[.*, .*\] \([0-2]/2\) \| 2 \|'
    assert re.search(paired, table)
    curves = cv2.imread(str(out / 'curves.png'))
    assert curves is not None and curves.shape[1] > 1000
    assert not (curves == 255).all()

    # --resume: nothing runs again, the table is rebuilt from runs/
    def no_training(*args, **kwargs):
        raise AssertionError('a finished run was trained again')

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ct, 'run_job', no_training)
        (out / 'results.md').unlink()
        ct.main(args + ['--resume'])
        with open(out / 'results.md') as f:
            assert f.read() == table
        # --table-only: the runs found, nothing trained, the missing named
        capsys.readouterr()
        ct.main(args + ['--table-only'])
        printed = capsys.readouterr().out
        assert 'not in the table' not in printed
        with open(out / 'results.md') as f:
            assert f.read() == table
        ct.main(args[:args.index('--seeds')] + ['--seeds', '0', '2'] +
                args[args.index('--out'):] + ['--table-only'])
        printed = capsys.readouterr().out
        assert f'not in the table: {name}, seed 2' in printed
        with open(out / 'results.json') as f:
            assert [r['seeds'] for r in json.load(f)['rows']] == [1, 1]
        with pytest.raises(ValueError, match='no finished run'):
            ct.main(args[:args.index('--seeds')] + ['--seeds', '5'] +
                    args[args.index('--out'):] + ['--table-only'])
        # other settings do not mix with the saved runs
        with pytest.raises(ValueError, match=r'seed0.json was made with '
                           r'other settings \(iters: 2, here 3\)'):
            ct.main([a if a != '2' else '3' for a in args] + ['--resume'])


def test_heldout_refuses_validation_on_training_images(lspet_300,
                                                       lspet_split):
    train_ann, val_ann = lspet_split
    cfg = Config.fromfile(SPCNET_LSP)
    with pytest.raises(ValueError, match='lspet_train.json shares 294 image '
                       'ids'):
        ct.heldout_config(cfg, lspet_300, train_ann, train_ann)
    cfg = ct.heldout_config(cfg, lspet_300, train_ann, val_ann)
    train = cfg.train_dataloader.dataset
    assert (train.type, train.ann_file) == ('LspDataset', train_ann)
    assert cfg.val_dataloader.dataset.ann_file == val_ann
    assert cfg.val_evaluator == dict(type='TorsoPCKAccuracy', thr=0.2)
    # the config's own augmentation stays in training
    assert 'RandomBBoxTransform' in [t['type'] for t in train.pipeline]
    with pytest.raises(ValueError, match='--data-root, --train-ann and '
                       '--val-ann together'):
        ct.compare([SPCNET_LSP], 2, val_ann=val_ann)


def test_lsp_reference_is_mmpose_simplebaseline_at_the_cpu_tier_size():
    """configs/lspet: MMPose's stock SimpleBaseline (ResNet-18) at 128x128
    on LSP's 14 joints, the held-out tables' common reference."""
    from mmpose.models.heads import HeatmapHead
    from mmpose.registry import MODELS
    cfg = Config.fromfile(
        osp.join(CONFIG_ROOT, 'lspet',
                 'td-hm_res18_1xb16-210e_lsp-128x128.py'))
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.val_evaluator == dict(type='TorsoPCKAccuracy', thr=0.2)
    ct.drop_pretrained(cfg.model)
    model = MODELS.build(cfg.model).eval()
    assert type(model.head) is HeatmapHead  # MMPose's own head
    heatmaps = model._forward(torch.zeros(1, 3, 128, 128))
    assert heatmaps.shape == (1, 14, 32, 32)
