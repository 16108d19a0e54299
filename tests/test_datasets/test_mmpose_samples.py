"""MMPose's dataset classes, pipelines, codecs and metrics on the real COCO,
MPII and CrowdPose samples shipped in ``mmpose_attn/data``, through configs.

For each config: its test dataset is pointed at the samples, every sample
goes through the config's own pipeline, the training pipeline's heatmap
target decodes back onto the annotated joints, and the config's own
evaluator scores the ground truth as a perfect prediction.
"""
import copy
import os.path as osp

import numpy as np
import pytest
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

from mmpose.codecs.utils import get_heatmap_maximum
from mmpose.registry import DATASETS, KEYPOINT_CODECS, METRICS

SAMPLES = {
    'coco': dict(ann_file='coco/test_coco.json', img='coco/'),
    'mpii': dict(ann_file='mpii/test_mpii.json', img='mpii/'),
    'crowdpose': dict(ann_file='crowdpose/test_crowdpose.json',
                      img='crowdpose/'),
}

# (config, samples, metric key that a perfect prediction scores 1.0 on)
CONFIGS = [
    ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
     'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py', 'coco', 'coco/AP'),
    ('mmpose::body_2d_keypoint/topdown_heatmap/mpii/'
     'td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py', 'mpii', 'PCK'),
    ('mmpose::body_2d_keypoint/dekr/crowdpose/'
     'dekr_hrnet-w32_8xb10-300e_crowdpose-512x512.py', 'crowdpose',
     'crowdpose/AP'),
]


def point_at_samples(dataset_cfg, samples_root, which):
    cfg = copy.deepcopy(dataset_cfg)
    cfg.update(
        data_root=samples_root,
        ann_file=SAMPLES[which]['ann_file'],
        data_prefix=dict(img=SAMPLES[which]['img']))
    for key in ('bbox_file', 'headbox_file'):
        cfg.pop(key, None)
    return cfg


def perfect_predictions(dataset):
    """Data samples whose predictions are the annotated keypoints."""
    samples = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        # COCO ignores people without keypoints: predicting them is a
        # false positive.
        labelled = info['keypoints_visible'].sum(-1) > 0
        keypoints = info['keypoints'][labelled]
        visible = info['keypoints_visible'][labelled]
        # CocoMetric's OKS-NMS reads areas from bbox_scales: use the true ones
        areas = np.broadcast_to(np.asarray(info['area'], float),
                                labelled.shape)[labelled]
        side = np.sqrt(areas)[:, None].repeat(2, axis=1)
        samples.append(
            dict(
                id=info['id'],
                img_id=info['img_id'],
                img_path=info['img_path'],
                ori_shape=(info['height'], info['width']) if 'height' in info
                else None,
                raw_ann_info=info.get('raw_ann_info'),
                gt_instances=dict(
                    keypoints=keypoints,
                    keypoints_visible=visible,
                    bboxes=info['bbox'][labelled],
                    bbox_scales=side),
                pred_instances=dict(
                    keypoints=keypoints,
                    keypoint_scores=np.ones(keypoints.shape[:2]),
                    bbox_scores=np.ones(len(keypoints)))))
    return samples


@pytest.mark.parametrize('config,which,metric_key', CONFIGS)
def test_config_on_real_samples(config, which, metric_key, samples_root):
    cfg = get_config(config)
    init_default_scope('mmpose')

    test_cfg = point_at_samples(cfg.test_dataloader.dataset, samples_root,
                                which)
    test_set = DATASETS.build(test_cfg)
    assert len(test_set) > 0
    for idx in range(len(test_set)):
        packed = test_set[idx]
        assert packed['inputs'].ndim == 3 and packed['inputs'].shape[0] == 3

    # The training pipeline's heatmap target decodes back to the joints.
    train_cfg = point_at_samples(cfg.train_dataloader.dataset, samples_root,
                                 which)
    train_cfg.pipeline[-1]['pack_transformed'] = True
    train_set = DATASETS.build(train_cfg)
    codec = KEYPOINT_CODECS.build(cfg.codec)
    if cfg.codec.type == 'MSRAHeatmap':
        sample = train_set[0]['data_samples']
        heatmaps = sample.gt_fields.heatmaps.numpy()
        peaks, _ = get_heatmap_maximum(heatmaps)
        stride = np.array(codec.input_size) / np.array(codec.heatmap_size)
        joints = sample.gt_instances.transformed_keypoints[0]
        # joints pushed off the crop by augmentation keep a clipped target
        visible = (sample.gt_instance_labels.keypoint_weights.numpy()[0] > 0
                   ) & np.all((joints >= 0) & (joints < codec.input_size), 1)
        assert visible.sum() >= 5
        np.testing.assert_allclose(
            peaks[visible] * stride, joints[visible], atol=stride.max())

    # The config's own metric scores the ground truth perfectly.
    evaluator_cfg = copy.deepcopy(cfg.test_evaluator)
    evaluator_cfg.pop('outfile_prefix', None)
    evaluator_cfg['ann_file'] = osp.join(samples_root,
                                         SAMPLES[which]['ann_file'])
    if evaluator_cfg['type'] == 'MpiiPCKAccuracy':
        # No MPII head boxes ship with the samples: the bbox-normalised PCK
        # runs the same code path.
        evaluator_cfg = dict(type='PCKAccuracy', norm_item='bbox')
        metric_key = 'PCK'
    else:
        # OKS-NMS would drop one of two perfectly predicted close people.
        evaluator_cfg['nms_mode'] = 'none'
    metric = METRICS.build(evaluator_cfg)
    metric.dataset_meta = test_set.metainfo
    metric.process([], perfect_predictions(test_set))
    results = metric.evaluate(size=len(test_set))
    assert results[metric_key] == pytest.approx(1.0)
