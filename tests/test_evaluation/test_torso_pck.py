"""TorsoPCKAccuracy against hand-computed PCK@0.2 on LSP and FLIC poses."""
import numpy as np
import pytest
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.evaluation.metrics import PCKAccuracy

from mmpose_attn.datasets import FlicDataset, LspDataset
from mmpose_attn.evaluation import TorsoPCKAccuracy

LSP_META = parse_pose_metainfo(LspDataset.METAINFO)
FLIC_META = parse_pose_metainfo(FlicDataset.METAINFO)


def samples(gt, visible, err):
    """MMPose data samples: gt [N, K, 2], visible [N, K], predictions
    ``gt + (err, 0)`` so that each joint's error is exactly ``|err|``."""
    pred = gt.copy()
    pred[..., 0] += err
    return [
        dict(
            gt_instances=dict(
                keypoints=gt[i:i + 1],
                keypoints_visible=visible[i:i + 1].astype(np.float32),
                bboxes=np.array([[0., 0., 500., 500.]])),
            pred_instances=dict(keypoints=pred[i:i + 1]))
        for i in range(len(gt))
    ]


def evaluate(metric, data_samples, meta):
    metric.dataset_meta = meta
    metric.process([], data_samples)
    return metric.evaluate(len(data_samples))


def lsp_fixture():
    """Instance A: torso ||left_shoulder(9) - right_hip(2)|| = 50 -> a joint
    is correct below 10 px; its head top (13) is unlabelled. Instance B:
    torso 100 -> below 20 px. Instance C: right hip unlabelled, so no torso;
    all its predictions are off by 1000 px."""
    k = np.arange(14)
    gt = np.stack([10. * k, 5. * k], axis=-1)[None].repeat(3, axis=0)
    gt[0, 9], gt[0, 2] = (0, 0), (30, 40)
    gt[1, 9], gt[1, 2] = (0, 0), (0, 100)
    visible = np.ones((3, 14), bool)
    visible[0, 13] = False
    visible[2, 2] = False
    err = np.array([
        [0, 5, 12, 9.9, 10, 0, 15, 3, 0, 0, 20, 1, 2, 50],
        [25, 19, 12, 0, 30, 21, 5, 19.99, 40, 0, 15, 25, 0, 10],
        [1000] * 14,
    ])
    return gt, visible, err


def test_lsp_hand_computed():
    gt, visible, err = lsp_fixture()
    metrics = evaluate(TorsoPCKAccuracy(), samples(gt, visible, err),
                       LSP_META)
    # correct (A, B) per joint: r_ank (1,0) r_kne (1,1) r_hip (0,1)
    # l_hip (1,1) l_kne (0,0: 10 px is not < 10) l_ank (1,0) r_wri (0,1)
    # r_elb (1,1) r_sho (1,0) l_sho (1,1) l_elb (0,1) l_wri (1,0)
    # neck (1,1) head_top (-,1)
    expected = {
        'Head PCK': (100 + 100) / 2,
        'Shoulder PCK': (50 + 100) / 2,
        'Elbow PCK': (100 + 50) / 2,
        'Wrist PCK': (50 + 50) / 2,
        'Hip PCK': (50 + 100) / 2,
        'Knee PCK': (100 + 0) / 2,
        'Ankle PCK': (50 + 50) / 2,
        'PCK': 100 * (9 + 9) / (13 + 14),
    }
    assert list(metrics) == list(expected)
    for name, value in expected.items():
        assert metrics[name] == pytest.approx(value), name


def test_instance_without_torso_is_excluded():
    gt, visible, err = lsp_fixture()
    with_c = evaluate(TorsoPCKAccuracy(), samples(gt, visible, err),
                      LSP_META)
    without_c = evaluate(TorsoPCKAccuracy(),
                         samples(gt[:2], visible[:2], err[:2]), LSP_META)
    assert with_c == without_c
    with pytest.raises(ValueError, match='none of the 1 instances'):
        evaluate(TorsoPCKAccuracy(), samples(gt[2:], visible[2:], err[2:]),
                 LSP_META)


def test_stock_torso_pck_uses_jhmdb_indices():
    """MMPose's PCKAccuracy(norm_item='torso') normalises by joints 4 and 5,
    LSP's left knee and left ankle (||(40, 20) - (50, 25)|| = 11.2 px here):
    our metric given those indices reproduces it, while LSP's real torso
    (left shoulder to right hip) gives the hand-computed result above."""
    gt, visible, err = lsp_fixture()
    gt, visible, err = gt[:2], np.ones((2, 14), bool), err[:2]
    stock = PCKAccuracy(thr=0.2, norm_item='torso')
    stock_pck = evaluate(stock, samples(gt, visible, err), LSP_META)['tPCK']
    jhmdb = evaluate(
        TorsoPCKAccuracy(torso_indices=(4, 5)), samples(gt, visible, err),
        LSP_META)['PCK']
    ours = evaluate(TorsoPCKAccuracy(), samples(gt, visible, err),
                    LSP_META)['PCK']
    assert jhmdb == pytest.approx(100 * stock_pck)
    # errors below 0.2 * 11.18 = 2.24 px: A 0, 0, 0, 0, 1, 2; B 0, 0, 0
    assert jhmdb == pytest.approx(100 * 9 / 28)
    # as in test_lsp_hand_computed, plus A's head top, now labelled (wrong)
    assert ours == pytest.approx(100 * 18 / 28)


def test_flic_elbow_wrist_mean():
    """FLIC torso: left_shoulder(0) - right_hip(7). A: torso 100 (< 20 px),
    B: torso 50 (< 10 px); all non-arm joints are off by 100 px."""
    gt = np.zeros((2, 11, 2))
    gt[0, 7], gt[1, 7] = (60, 80), (30, 40)
    err = np.full((2, 11), 100.)
    err[0, [1, 4, 2, 5]] = 5, 25, 19, 20  # l/r elbow, l/r wrist
    err[1, [1, 4, 2, 5]] = 9, 9, 11, 0
    metric = TorsoPCKAccuracy(mean_over=('Elbow', 'Wrist'))
    metrics = evaluate(metric, samples(gt, np.ones((2, 11)), err), FLIC_META)
    assert metrics == pytest.approx({
        'Head PCK': 0.,
        'Shoulder PCK': 0.,
        'Elbow PCK': (100 + 50) / 2,
        'Wrist PCK': (50 + 50) / 2,
        'Hip PCK': 0.,
        'PCK': 100 * 5 / 8,
    })


def test_explicit_groups_indices_and_errors():
    gt, visible, err = lsp_fixture()
    data = samples(gt[:2], visible[:2], err[:2])
    metric = TorsoPCKAccuracy(
        torso_indices=(9, 2), joint_groups={'Arms': [6, 7, 'left_wrist']})
    metrics = evaluate(metric, data, LSP_META)
    # r_wri (0,1) r_elb (1,1) l_wri (1,0); PCK over all 14 joints as before
    assert metrics == pytest.approx({
        'Arms PCK': (50 + 100 + 50) / 3,
        'PCK': 100 * 18 / 27
    })
    # indices need no metainfo; names do
    assert evaluate(TorsoPCKAccuracy(torso_indices=(9, 2)), data,
                    None) == pytest.approx({'PCK': 100 * 18 / 27})
    with pytest.raises(ValueError, match='no dataset_meta'):
        evaluate(TorsoPCKAccuracy(), data, None)
    with pytest.raises(KeyError, match='"pelvis" is not a keypoint'):
        evaluate(TorsoPCKAccuracy(torso_indices=('pelvis', 2)), data,
                 LSP_META)
    with pytest.raises(KeyError, match="mean_over groups \\['Knees'\\]"):
        evaluate(TorsoPCKAccuracy(mean_over=['Knees']), data, LSP_META)


def test_registered():
    from mmpose.registry import METRICS
    metric = METRICS.build(dict(type='TorsoPCKAccuracy', thr=0.1))
    assert isinstance(metric, TorsoPCKAccuracy) and metric.thr == 0.1
