import numpy as np
import pytest
from mmpose.codecs import MSRAHeatmap
from mmpose.registry import KEYPOINT_CODECS

from mmpose_attn.codecs import SegmentationHeatmap

# heatmap 48x64 (W x H) for a 192x256 input: keypoints in input pixels are
# 4x the heatmap pixels written below.
CFG = dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2)


def _pixels(seg_map):
    ys, xs = np.nonzero(seg_map[0])
    return set(zip(xs.tolist(), ys.tolist()))


def test_hand_made_disks():
    codec = SegmentationHeatmap(**CFG, radius=2)
    # heatmap-space keypoints: a sub-pixel one, an integer one, an
    # unlabelled one and one at the image corner
    hm_kpts = np.array([[[10.5, 20.], [30., 40.], [5., 5.], [.2, .3]]])
    visible = np.array([[1., 1., 0., 1.]])
    seg = codec.encode(hm_kpts * 4, visible)['seg_map']

    assert seg.shape == (1, 64, 48) and seg.dtype == np.float32
    assert set(np.unique(seg)) == {0., 1.}
    # (10.5, 20): |dx| in {0.5, 1.5} with |dy| <= 1; |dy| = 2 is out
    disk_a = {(x, y) for x in (9, 10, 11, 12) for y in (19, 20, 21)}
    # (30, 40), r = 2: 13 pixels, distance exactly r included
    disk_b = {(30 + dx, 40 + dy)
              for dx, dy in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1),
                             (1, 1), (1, -1), (-1, 1), (-1, -1), (2, 0),
                             (-2, 0), (0, 2), (0, -2)]}
    # (0.2, 0.3) clipped to the map; (2, 2) is 2.48 away
    disk_d = {(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (0, 2),
              (1, 2)}
    assert _pixels(seg) == disk_a | disk_b | disk_d


def test_heatmaps_peak_and_decode_match_msra():
    codec = SegmentationHeatmap(**CFG, radius=5)
    msra = MSRAHeatmap(**CFG)
    kpts = np.array([[[10.5, 20.], [30., 40.], [5., 5.], [47.8, 63.4]]]) * 4
    visible = np.array([[1., 1., 0., 1.]])
    ours, ref = codec.encode(kpts, visible), msra.encode(kpts, visible)

    np.testing.assert_array_equal(ours['heatmaps'], ref['heatmaps'])
    np.testing.assert_array_equal(ours['keypoint_weights'],
                                  ref['keypoint_weights'])
    # unnormalised Gaussian, sigma 2, centred on the rounded keypoint
    hm = ours['heatmaps']
    assert hm[1, 40, 30] == 1.
    assert hm[1, 40, 31] == pytest.approx(np.exp(-1 / 8))
    assert hm[0, 20, 11] == 1.  # int(10.5 + 0.5)
    assert hm[1, 40, 37] == 0.  # outside the 3-sigma square window
    assert not hm[2].any()

    kp_ours, score_ours = codec.decode(hm)
    kp_ref, score_ref = msra.decode(hm)
    np.testing.assert_array_equal(kp_ours, kp_ref)
    np.testing.assert_array_equal(score_ours, score_ref)
    # (30, 40): symmetric neighbours, no shift; (11, 20): symmetric too
    np.testing.assert_allclose(kp_ours[0, 1], [120., 160.])
    np.testing.assert_allclose(kp_ours[0, 0], [44., 80.])


def test_quarter_shift_toward_second_highest():
    codec = SegmentationHeatmap(**CFG)
    hm = np.zeros((1, 64, 48), np.float32)
    hm[0, 10, 20], hm[0, 10, 21], hm[0, 11, 20] = 1., .8, .5
    kp, score = codec.decode(hm)
    np.testing.assert_allclose(kp[0, 0], np.array([20.25, 10.25]) * 4)
    assert score[0, 0] == 1.


def test_multi_instance_union_and_max():
    codec = SegmentationHeatmap(**CFG, radius=3)
    kpts = np.array([[[10., 10.], [20., 20.]], [[11., 10.], [40., 50.]]]) * 4
    visible = np.array([[1., 1.], [1., 0.]])
    enc = codec.encode(kpts, visible)
    single = [codec.encode(kpts[i:i + 1], visible[i:i + 1]) for i in (0, 1)]
    np.testing.assert_array_equal(
        enc['seg_map'], np.maximum(single[0]['seg_map'],
                                   single[1]['seg_map']))
    np.testing.assert_array_equal(
        enc['heatmaps'],
        np.maximum(single[0]['heatmaps'], single[1]['heatmaps']))
    assert enc['keypoint_weights'].shape == (2, 2)
    assert enc['seg_map'][0, 50, 40] == 0.  # invisible keypoint of person 2


@pytest.mark.parametrize('radius', [1., 2.5, 5., 9.])
def test_vectorised_matches_pixel_loop(radius):
    rng = np.random.default_rng(0)
    codec = SegmentationHeatmap(**CFG, radius=radius)
    kpts = rng.uniform(-10, 60, size=(2, 17, 2)) * 4
    visible = (rng.uniform(size=(2, 17)) > .3).astype(np.float32)
    seg = codec.encode(kpts, visible)['seg_map'][0]

    ref = np.zeros((64, 48), np.float32)
    for (x, y), v in zip(kpts.reshape(-1, 2) / 4, visible.reshape(-1)):
        if v < .5:
            continue
        for py in range(64):
            for px in range(48):
                if (px - x)**2 + (py - y)**2 <= radius**2:
                    ref[py, px] = 1.
    np.testing.assert_array_equal(seg, ref)


def test_registry_fields_and_bad_input():
    codec = KEYPOINT_CODECS.build(dict(type='SegmentationHeatmap', **CFG))
    assert codec.radius == 5.
    assert codec.field_mapping_table['seg_map'] == 'seg_map'
    assert not codec.encode(np.zeros((1, 3, 2)),
                            np.zeros((1, 3)))['seg_map'].any()
    with pytest.raises(ValueError, match='radius'):
        SegmentationHeatmap(**CFG, radius=0)
    with pytest.raises(ValueError, match=r'\(N, K, D\)'):
        codec.encode(np.zeros((3, 2)))
