"""Shared by the top-down config tests (SPCNet, SADI-Net, SG-HRNet): the
real MPII samples through a config's own pipeline, and one checked test
step. Not collected by pytest (no ``test_`` prefix); the config tests import
it from their own folder."""
import copy

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.optim import build_optim_wrapper

from mmpose.registry import DATASETS


def with_codec(pipeline, codec):
    """A copy of ``pipeline`` whose crop and targets follow ``codec`` (e.g.
    a small input size for a narrow test copy of a config)."""
    pipeline = copy.deepcopy(pipeline)
    for t in pipeline:
        if t['type'] in ('TopdownAffine', 'PyramidTopdownAffine'):
            t['input_size'] = codec['input_size']
        elif t['type'] == 'GenerateTarget':
            t['encoder'] = codec
    return pipeline


def mpii_samples_dataset(samples_root, pipeline, test_mode,
                         converter=None, metainfo=None):
    """The MPII samples with ``pipeline``; with ``converter`` (a
    ``KeypointConverter`` pipeline) mapped to another dataset's joints
    through ``CombinedDataset`` with that dataset's ``metainfo``."""
    mpii = dict(
        type='MpiiDataset',
        data_root=samples_root,
        data_mode='topdown',
        ann_file='mpii/test_mpii.json',
        data_prefix=dict(img='mpii/'),
        test_mode=test_mode)
    if converter is None:
        return DATASETS.build(dict(mpii, pipeline=pipeline))
    return DATASETS.build(
        dict(
            type='CombinedDataset',
            metainfo=metainfo,
            datasets=[dict(mpii, pipeline=converter)],
            pipeline=pipeline,
            test_mode=test_mode))


def checked_train_step(model, cfg, train_set):
    """One ``model.train_step`` of the config's own optimizer on the first
    two samples: a finite positive ``loss_kpt``, and every part of the model
    (backbone, neck, head) updated. Returns the logs."""
    model.train()
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    before = copy.deepcopy(model.state_dict())
    logs = model.train_step(pseudo_collate([train_set[0], train_set[1]]),
                            optim)
    assert torch.isfinite(logs['loss_kpt']) and logs['loss_kpt'] > 0
    after = model.state_dict()
    for part in ('backbone.', 'neck.', 'head.'):
        if any(n.startswith(part) for n in after):
            assert any(not torch.equal(v, after[n])
                       for n, v in before.items()
                       if n.startswith(part) and v.is_floating_point()), part
    return logs


def checked_test_step(model, test_set, num_keypoints):
    """``model.test_step`` on the first two samples: one finite
    ``num_keypoints``-joint pose each. Returns ``(preds, batch)``."""
    model.eval()
    batch = pseudo_collate([test_set[0], test_set[1]])
    with torch.no_grad():
        preds = model.test_step(batch)
    assert len(preds) == 2
    for p in preds:
        assert p.pred_instances.keypoints.shape == (1, num_keypoints, 2)
        assert np.isfinite(p.pred_instances.keypoints).all()
        assert np.isfinite(p.pred_instances.keypoint_scores).all()
    return preds, batch


def evaluate_with_config(cfg, preds, batch, metainfo):
    """The config's own test evaluator on ``preds``."""
    evaluator = Evaluator(copy.deepcopy(cfg.test_evaluator))
    evaluator.dataset_meta = metainfo
    evaluator.process(preds, batch)
    return evaluator.evaluate(len(preds))


def _labelled(sample):
    """(K,) whether each joint of the sample's one person is labelled
    (MMPose's KeypointConverter adds a second visibility column)."""
    visible = np.asarray(sample.gt_instances.keypoints_visible)[0]
    return (visible[:, 0] if visible.ndim == 2 else visible) > 0


def _torso_pck_by_hand(keypoints, batch, metainfo, thr=0.2):
    """LSP's PCK@0.2 (in %): the labelled joints whose prediction lies
    within ``thr`` torso sizes (left shoulder to right hip) of the ground
    truth, over all labelled joints."""
    ids = metainfo['keypoint_name2id']
    hits = labelled = 0
    for pred, sample in zip(keypoints, batch['data_samples']):
        gt = np.asarray(sample.gt_instances.keypoints)[0]
        vis = _labelled(sample)
        torso = np.linalg.norm(gt[ids['left_shoulder']] - gt[ids['right_hip']])
        assert torso > 0
        dist = np.linalg.norm(pred - gt, axis=-1)
        hits += int(((dist < thr * torso) & vis).sum())
        labelled += int(vis.sum())
    return 100. * hits / labelled


def check_torso_pck(cfg, preds, batch, metainfo):
    """The config's evaluator gives the hand-computed torso PCK@0.2 of the
    model's predictions, and of predictions placed at known distances:
    even joints 0.1 torso from the truth (inside), odd ones 0.3 (outside)."""
    ours = [p.pred_instances.keypoints[0] for p in preds]
    metrics = evaluate_with_config(cfg, preds, batch, metainfo)
    assert metrics['PCK'] == pytest.approx(
        _torso_pck_by_hand(ours, batch, metainfo))

    ids = metainfo['keypoint_name2id']
    placed = copy.deepcopy(preds)
    for p, sample in zip(placed, batch['data_samples']):
        gt = np.asarray(sample.gt_instances.keypoints)[0]
        torso = np.linalg.norm(gt[ids['left_shoulder']] - gt[ids['right_hip']])
        step = np.where(np.arange(len(gt)) % 2 == 0, 0.1, 0.3) * torso
        moved = gt + np.stack([step, 0 * step], axis=-1)
        p.pred_instances.keypoints = moved[None]
    labelled = np.concatenate([_labelled(s) for s in batch['data_samples']])
    even = np.tile(np.arange(len(ids)) % 2 == 0, len(placed))
    expected = 100. * (labelled & even).sum() / labelled.sum()
    assert 0 < expected < 100
    placed_keypoints = [p.pred_instances.keypoints[0] for p in placed]
    assert _torso_pck_by_hand(placed_keypoints, batch,
                              metainfo) == pytest.approx(expected)
    metrics = evaluate_with_config(cfg, placed, batch, metainfo)
    assert metrics['PCK'] == pytest.approx(expected)


def _leaves(value, prefix=''):
    """Every leaf setting of a config dict: dotted path -> value."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return {prefix: value}
    leaves = {}
    for key, item in items:
        path = f'{prefix}.{key}' if prefix else str(key)
        leaves.update(_leaves(item, path))
    return leaves


def config_changes(cfg, base):
    """The resolved settings in which ``cfg`` differs from ``base``: dotted
    path -> ``cfg``'s value (None where ``cfg`` lacks it)."""
    ours, theirs = _leaves(cfg.to_dict()), _leaves(base.to_dict())
    return {k: ours.get(k) for k in set(ours) | set(theirs)
            if ours.get(k) != theirs.get(k)}
