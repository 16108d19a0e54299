"""DEKR's heatmap matching (SAMKR Sec. I: "using the keypoint heatmap to
match the regression pose") as an option of MMPose's SPR codec."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpose.codecs import SPR
from mmpose.registry import DATASETS, KEYPOINT_CODECS, MODELS

CODEC = dict(input_size=(128, 128), heatmap_size=(32, 32), sigma=(4, 2),
             generate_keypoint_heatmaps=True, decode_max_instances=1)


def gaussian(cx, cy, size=32, sigma=1.5):
    ys, xs = torch.meshgrid(
        torch.arange(size, dtype=torch.float32),
        torch.arange(size, dtype=torch.float32),
        indexing='ij')
    g = torch.exp(-((xs - cx)**2 + (ys - cy)**2) / (2 * sigma**2))
    # truncated: float32's vanishing tails have spurious local maxima
    return g * (g > 1e-3)


def outputs(regressed, peaks, root=(16, 16)):
    """Heatmaps (K+1, 32, 32): keypoint k's heatmap has a Gaussian at each
    of ``peaks[k]`` (heatmap cells), the root one at ``root``; constant
    displacements regress keypoint k to ``regressed[k]`` (input pixels)
    from the root."""
    k = len(regressed)
    heatmaps = torch.zeros(k + 1, 32, 32)
    for i, centers in enumerate(peaks):
        for cx, cy in centers:
            heatmaps[i] = torch.maximum(heatmaps[i], gaussian(cx, cy))
    heatmaps[k] = gaussian(*root)
    offsets = torch.tensor(regressed, dtype=torch.float32) / 4 - torch.tensor(
        root, dtype=torch.float32)
    displacements = offsets.reshape(2 * k, 1, 1).expand(-1, 32, 32).clone()
    return heatmaps, displacements


def build(**kwargs):
    return KEYPOINT_CODECS.build(
        dict(type='SPRHeatmapMatching', **CODEC, **kwargs))


def test_keypoint_near_a_peak_moves_onto_it_one_beyond_stays():
    # keypoint 0: 3 px from its peak at input (40, 48) -> moves onto it;
    # keypoint 1: 80 px from its only peak at (40, 100) -> stays (thr 75);
    # keypoint 2: 5 px from keypoint 0's peak but its own heatmap peaks at
    # (100, 20), 62 px away -> moves there (own heatmap only), and the
    # nearer of two own peaks wins: (100, 20) over (120, 120)
    regressed = [(43., 48.), (120., 100.), (45., 48.)]
    peaks = [[(10, 12)], [(10, 25)], [(25, 5), (30, 30)]]
    heatmaps, displacements = outputs(regressed, peaks)
    keypoints, (roots, scores) = build(match_heatmap=True).decode(
        heatmaps, displacements)
    torch.testing.assert_close(
        keypoints, torch.tensor([[[40., 48.], [120., 100.], [100., 20.]]]))
    # scores are SPR's, read at the regressed positions
    spr_kpts, (spr_roots, spr_scores) = SPR(**CODEC).decode(
        heatmaps, displacements)
    torch.testing.assert_close(spr_kpts, torch.tensor([regressed]))
    torch.testing.assert_close(scores, spr_scores)
    torch.testing.assert_close(roots, spr_roots)


def test_threshold_and_switch():
    regressed = [(43., 48.), (120., 100.), (45., 48.)]
    peaks = [[(10, 12)], [(10, 25)], [(25, 5)]]
    heatmaps, displacements = outputs(regressed, peaks)
    # a 2 px threshold keeps the 3 px keypoint too
    kpts, _ = build(match_heatmap=True, match_max_distance=2).decode(
        heatmaps, displacements)
    torch.testing.assert_close(kpts, torch.tensor([regressed]))
    # 90 px reaches keypoint 1's peak 80 px away
    kpts, _ = build(match_heatmap=True, match_max_distance=90).decode(
        heatmaps, displacements)
    torch.testing.assert_close(kpts[0, 1], torch.tensor([40., 100.]))
    # off (the default): SPR's decoding exactly
    kpts, _ = build().decode(heatmaps, displacements)
    torch.testing.assert_close(kpts, torch.tensor([regressed]))


def test_peaks_at_input_resolution_and_only_positive():
    """A peak between heatmap cells is found at input resolution (DEKR's
    upsampled heatmaps); an empty heatmap offers no peak to move to."""
    codec = build(match_heatmap=True)
    hm = torch.zeros(2, 32, 32)
    # equal cells (10, 12) and (11, 12): the bilinear upsampling peaks on
    # the whole segment between input x = 40 and 44, NMS keeps its points
    hm[0, 12, 10] = hm[0, 12, 11] = 1.0
    coords, values = codec.heatmap_peaks(hm)
    top = coords[0][values[0] == values[0].max()]
    assert {tuple(p) for p in top.tolist()} == {(x, 48) for x in range(40,
                                                                         45)}
    keypoints = torch.tensor([[[43.4, 50.], [43.4, 50.]]])
    matched = codec.match_to_heatmap(keypoints, hm)
    torch.testing.assert_close(matched[0, 0], torch.tensor([43., 48.]))
    torch.testing.assert_close(matched[0, 1], keypoints[0, 1])


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match='generate_keypoint_heatmaps'):
        KEYPOINT_CODECS.build(
            dict(type='SPRHeatmapMatching', input_size=(128, 128),
                 heatmap_size=(32, 32), match_heatmap=True))
    with pytest.raises(ValueError, match='integer multiple'):
        KEYPOINT_CODECS.build(
            dict(CODEC, type='SPRHeatmapMatching', heatmap_size=(30, 30),
                 match_heatmap=True))
    with pytest.raises(ValueError, match='match_nms_kernel'):
        build(match_heatmap=True, match_nms_kernel=4)


def _input_space(pred):
    """Image keypoints back to the network input's pixels."""
    meta = pred.metainfo
    kpts = pred.pred_instances.keypoints
    return ((kpts - meta['input_center'] + meta['input_scale'] / 2) /
            meta['input_scale'] * np.array(meta['input_size']))


def test_samples_end_to_end_changes_only_keypoints_near_a_peak(
        config_root, samples_root):
    """The tiny SAMKR config (matching on, as the paper's) on the real COCO
    samples, against the same model with matching off: every keypoint that
    changed now sits on a peak of its own heatmap closer than the
    threshold, every one that did not has no such peak (or sits on one)."""
    from mmengine.dataset import pseudo_collate
    cfg = Config.fromfile(
        osp.join(config_root, 'samkr',
                 'samkr_hrnet-tiny_1xb2-2e_coco-128x128.py'))
    assert cfg.model.head.decoder.type == 'SPRHeatmapMatching'
    assert cfg.model.head.decoder.match_heatmap
    thr = 6.0
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    model_cfg.head.decoder.update(match_max_distance=thr,
                                  decode_thr=-float('inf'))
    # every instance kept (no pose NMS), heatmaps returned
    model_cfg.test_cfg.update(nms_dist_thr=0, output_heatmaps=True)
    torch.manual_seed(0)
    matched_model = MODELS.build(model_cfg).eval()
    off_cfg = copy.deepcopy(model_cfg)
    off_cfg.head.decoder.match_heatmap = False
    plain_model = MODELS.build(off_cfg).eval()
    plain_model.load_state_dict(matched_model.state_dict())
    dataset = DATASETS.build(
        dict(type='CocoDataset', data_mode='bottomup',
             data_root=osp.join(samples_root, 'coco'),
             ann_file='test_coco.json', data_prefix=dict(img=''),
             test_mode=True, serialize_data=False,
             pipeline=cfg.val_dataloader.dataset.pipeline))
    codec = matched_model.head.decoder
    changed = unchanged = 0
    for i in range(2):
        batch = pseudo_collate([dataset[i]])
        with torch.no_grad():
            (on, ) = matched_model.test_step(batch)
            (off, ) = plain_model.test_step(batch)
        np.testing.assert_array_equal(on.pred_instances.keypoint_scores,
                                      off.pred_instances.keypoint_scores)
        before, after = _input_space(off), _input_space(on)
        heatmaps = on.pred_fields.heatmaps[:-1]  # the keypoint heatmaps
        peaks, values = codec.heatmap_peaks(heatmaps)
        peaks, values = peaks.numpy(), values.numpy()
        for n, k in np.ndindex(*before.shape[:2]):
            own = peaks[k][values[k] > 0]
            dist = np.append(
                np.linalg.norm(own - before[n, k], axis=-1), np.inf)
            if np.abs(after[n, k] - before[n, k]).max() > 1e-3:
                changed += 1
                # onto the nearest of its own peaks, within the threshold
                np.testing.assert_allclose(
                    after[n, k], own[dist.argmin()], atol=1e-3)
                assert dist.min() < thr
            else:
                unchanged += 1
                assert dist.min() >= thr or dist.min() < 1e-3
    assert changed > 0 and unchanged > 0
