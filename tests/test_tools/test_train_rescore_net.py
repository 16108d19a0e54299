import copy
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmpose.apis import init_model
from mmpose.codecs.utils import batch_heatmap_nms
from mmpose_attn.tools import train_rescore_net as tool

TINY = 'samkr_hrnet-tiny_1xb2-2e_coco-128x128.py'
# an untrained net's root heatmap stays below DEKR's 0.01 threshold
ALL_ROOTS = ['model.head.decoder.decode_thr=-inf']


def test_oks_by_hand():
    sigmas = np.array([0.1, 0.2, 0.3])
    gt = np.array([[[10., 10.], [20., 20.], [30., 30.]]])
    visible = np.array([[1., 1., 0.]])  # keypoint 2 is not labelled
    area = np.array([400.])
    pred = np.array([
        gt[0],  # exact
        gt[0] + [[3., 4.], [0., 0.], [50., 50.]],  # 5 px off on keypoint 0
    ])
    oks = tool.keypoint_oks(pred, gt, visible, area, sigmas)
    # COCO: exp(-d^2 / (2 * area * (2 sigma)^2)) averaged over labelled
    expected = (math.exp(-25 / (2 * 400 * 0.2**2)) + 1) / 2
    np.testing.assert_allclose(oks[:, 0], [1., expected], rtol=1e-9)


def test_best_oks_skips_unlabelled_and_crowd_persons():
    sigmas = np.full(2, 0.1)
    info = dict(
        keypoints=np.array([[[0., 0.], [10., 0.]], [[50., 50.], [60., 50.]],
                            [[100., 100.], [110., 100.]]]),
        keypoints_visible=np.array([[1., 1.], [0., 0.], [1., 1.]]),
        num_keypoints=np.array([2, 0, 2]),
        iscrowd=np.array([0, 0, 1]),
        area=np.array([100., 100., 100.]),
        bbox=np.array([[0., 0., 10., 20.]] * 3))
    poses = info['keypoints'] + 1.  # 1.4 px off each
    best = tool.best_oks(poses, info, sigmas)
    one = math.exp(-2 / (2 * 100 * 0.2**2))
    # pose 0 matches person 0; poses 1, 2 sit on an unlabelled person and a
    # crowd region: their best labelled match is person 0, far away
    np.testing.assert_allclose(best, [one, 0, 0], atol=1e-12)
    # CrowdPose's metric scales by 0.53 x the box area (10 x 20)
    crowd = tool.best_oks(poses, info, sigmas, use_area=False)
    np.testing.assert_allclose(
        crowd[0], math.exp(-2 / (2 * 0.53 * 200 * 0.2**2)), rtol=1e-12)
    assert tool.best_oks(poses[:0], info, sigmas).shape == (0, )


def test_train_fits_the_oks_better_than_its_mean():
    """Poses whose OKS is a function of their keypoint scores: the trained
    net predicts it far better than the mean does."""
    rng = np.random.default_rng(0)
    n, k = 512, 17
    skeleton = [(i, i + 1) for i in range(k - 1)] + [(0, 5)]
    scores = rng.uniform(0, 1, (n, k)).astype(np.float32)
    data = dict(
        keypoints=rng.uniform(0, 100, (n, k, 2)).astype(np.float32),
        keypoint_scores=scores,
        oks=scores[:, :4].mean(1))
    net, losses = tool.train_rescore_net(
        data, skeleton, (5, 6), epochs=60, batch_size=64)
    assert len(losses) == 60 and losses[-1] < losses[0]
    with torch.no_grad():
        pred = net(
            torch.from_numpy(data['keypoints']),
            torch.from_numpy(scores), skeleton).numpy()
    assert np.mean((pred - data['oks'])**2) < 0.2 * np.var(data['oks'])
    with pytest.raises(ValueError, match='no predicted poses'):
        tool.train_rescore_net(
            dict(keypoints=data['keypoints'][:0],
                 keypoint_scores=scores[:0], oks=data['oks'][:0]),
            skeleton, (5, 6))


@pytest.fixture(scope='module')
def tiny(config_root, samples_root, tmp_path_factory):
    """The tiny COCO config on the samples, its untrained model saved as a
    checkpoint, and the tool run on it (3 epochs)."""
    tmp = tmp_path_factory.mktemp('rescore')
    config = osp.join(config_root, 'samkr', TINY)
    cfg = Config.fromfile(config)
    data_root = osp.join(samples_root, 'coco')
    cfg.model.head.decoder.decode_thr = -math.inf
    options = ALL_ROOTS
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        options = options + [f'{loader}.dataset.data_root={data_root}']
    torch.manual_seed(0)
    model = init_model(cfg, None, device='cpu')
    # an untrained head's heatmaps are ~0 and partly negative: every root
    # and keypoint score decodes to 0. Positive, varied heatmaps make the
    # scores (and the rescore targets) informative.
    with torch.no_grad():
        final = model.head.heatmap_conv_layers[-1]
        final.weight.normal_(0, 0.05)
        final.bias.fill_(0.1)
    ckpt = str(tmp / 'model.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = tool.main([
        config, ckpt, '--work-dir',
        str(tmp), '--epochs', '3', '--cfg-options'
    ] + options)
    return dict(cfg=cfg, model=model, ckpt=ckpt, out=out, tmp=tmp)


def test_candidates_are_the_models_predictions_in_image_space(tiny):
    """Without NMS the recorded candidates, mapped to the image, are the
    estimator's own predictions, same order."""
    model = tiny['model']
    dataset = tool._training_set(tiny['cfg'], max_images=2)
    assert len(dataset) == 2  # else the loop below checks nothing
    nms = model.test_cfg['nms_dist_thr']
    model.test_cfg['nms_dist_thr'] = 0
    model.test_cfg['output_heatmaps'] = True
    try:
        for idx in range(len(dataset)):
            data = dataset[idx]
            keypoints, scores = tool.predict_candidates(model, data)
            with torch.no_grad():
                pred = model.test_step(pseudo_collate([data]))[0]
            assert len(keypoints) > 0
            np.testing.assert_allclose(
                keypoints, pred.pred_instances.keypoints, rtol=1e-5,
                atol=1e-3)
            # the estimator reports root score x keypoint score, the roots
            # being the top maxima of its root heatmap, in order
            root_heatmap = pred.pred_fields.heatmaps[-1:][None]
            roots = batch_heatmap_nms(root_heatmap, 5).flatten().topk(
                len(keypoints)).values.numpy()
            expected = roots[:, None] * scores
            assert np.abs(expected).max() > 0
            # relative: an untrained net's scores are tiny
            np.testing.assert_allclose(
                pred.pred_instances.keypoint_scores, expected, rtol=1e-4,
                atol=1e-4 * np.abs(expected).max())
    finally:
        model.test_cfg['nms_dist_thr'] = nms
        model.test_cfg.pop('output_heatmaps')


def test_tool_writes_data_and_a_loadable_net(tiny):
    data = np.load(osp.join(tiny['tmp'], 'rescore_data.npz'))
    n = len(data['oks'])
    assert n > 4  # several candidates from the 4 sample images
    assert data['keypoints'].shape == (n, 17, 2)
    assert data['keypoint_scores'].shape == (n, 17)
    # the recorded poses, scores and OKS are the candidates of each training
    # image and their best OKS with its labelled persons, recomputed here
    dataset = tool._training_set(tiny['cfg'], max_images=None)
    sigmas = np.asarray(dataset.metainfo['sigmas'])
    expected = dict(keypoints=[], keypoint_scores=[], oks=[])
    for idx in range(len(dataset)):
        kpts, scores = tool.predict_candidates(tiny['model'], dataset[idx])
        expected['keypoints'].append(kpts)
        expected['keypoint_scores'].append(scores)
        expected['oks'].append(
            tool.best_oks(kpts, dataset.get_data_info(idx), sigmas))
    for key, parts in expected.items():
        np.testing.assert_allclose(
            data[key], np.concatenate(parts), rtol=1e-5, atol=1e-6)
    assert ((data['oks'] >= 0) & (data['oks'] <= 1)).all()
    assert data['oks'].max() > 0
    assert tiny['out'] == osp.join(tiny['tmp'], 'rescore_net.pth')
    saved = torch.load(tiny['out'], map_location='cpu')
    assert len(saved['meta']['epoch_losses']) == 3
    assert set(saved['state_dict']) == {
        f'l{i}.{p}'
        for i in (1, 2, 3) for p in ('weight', 'bias')
    }
    assert (tiny['tmp'] / 'rescore.log').read_text().count('MSE') == 1


def test_own_rescore_config_loads_the_net_and_rescores(tiny, config_root):
    """A config pointing at the tool's output rescores (scores change,
    keypoints do not); without weights the head leaves scores alone."""
    cfg = copy.deepcopy(tiny['cfg'])
    model = init_model(cfg, tiny['ckpt'], device='cpu')
    cfg.model.head.rescore_cfg.init_cfg = dict(
        type='Pretrained', checkpoint=tiny['out'])
    rescored_model = init_model(cfg, tiny['ckpt'], device='cpu')
    head = rescored_model.head
    assert head.rescore_on and not model.head.rescore_on
    saved = torch.load(tiny['out'], map_location='cpu')['state_dict']
    torch.testing.assert_close(head.rescore_net.l1.weight, saved['l1.weight'])
    # decoding outputs with clear roots (an untrained net's are ~0)
    gen = torch.Generator().manual_seed(0)
    heatmaps = [torch.rand(1, 18, 32, 32, generator=gen)]
    displacements = [torch.randn(1, 34, 32, 32, generator=gen) * 3]
    metainfo = dict(skeleton_links=model.dataset_meta['skeleton_links'])
    plain, rescored = (
        h.decode(heatmaps, displacements, dict(nms_dist_thr=0), metainfo)[0]
        for h in (model.head, head))
    np.testing.assert_allclose(rescored.keypoints, plain.keypoints)
    with torch.no_grad():
        instance = head.rescore_net(
            torch.from_numpy(plain.keypoints).float(),
            *head.decoder.decode(heatmaps[0][0], displacements[0][0])[1][1:],
            metainfo['skeleton_links'])
    # root x keypoint score, times the predicted OKS when rescoring
    np.testing.assert_allclose(
        rescored.keypoint_scores,
        plain.keypoint_scores * instance.numpy()[:, None],
        rtol=1e-5,
        atol=1e-7)
    assert not np.allclose(rescored.keypoint_scores, plain.keypoint_scores)

    name = 'samkr_hrnet-w32_8xb10-140e_coco-512x512_own-rescore.py'
    own = Config.fromfile(osp.join(config_root, 'samkr', name))
    assert own.model.head.rescore_cfg.init_cfg.checkpoint == (
        'work_dirs/samkr_hrnet-w32_8xb10-140e_coco-512x512/rescore_net.pth')


def test_bad_inputs_are_clear_errors(config_root, tmp_path):
    config = osp.join(config_root, 'samkr', TINY)
    with pytest.raises(FileNotFoundError, match='none.pth'):
        tool.main([config, str(tmp_path / 'none.pth'), '--work-dir',
                   str(tmp_path)])
    with pytest.raises(ValueError, match='rescore_cfg'):
        tool.main([
            config,
            str(tmp_path / 'none.pth'), '--work-dir',
            str(tmp_path), '--cfg-options', 'model.head.rescore_cfg=None'
        ])
