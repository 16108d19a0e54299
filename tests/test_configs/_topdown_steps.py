"""Shared by the top-down config tests (SPCNet, SADI-Net, SG-HRNet): the
real MPII samples through a config's own pipeline, and one checked test
step. Not collected by pytest (no ``test_`` prefix); the config tests import
it from their own folder."""
import copy

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator

from mmpose.registry import DATASETS


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
