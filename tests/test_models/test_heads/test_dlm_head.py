import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from mmpose.codecs import IntegralRegressionLabel
from mmpose.models.heads import CPMHead
from mmpose.structures import PoseDataSample
from mmpose_attn.models.backbones.rfm_hourglass import (RFMHourglassNet,
                                                        RFMHourglassOutput)
from mmpose_attn.models.heads.dlm_head import DLMHead

K, IN, HM = 3, 64, 16
SFM = dict(
    type='SpatialFusionModule',
    in_channels=(4, 8, 16, 32),
    mid_channels=8,
    head_channels=(8, 16, 32, 64))
CODEC = dict(
    type='MSRAHeatmap', input_size=(IN, IN), heatmap_size=(HM, HM), sigma=2)


def _head(**kwargs):
    cfg = dict(out_channels=K, num_stacks=2, sfm=SFM, decoder=CODEC)
    cfg.update(kwargs)
    head = DLMHead(**cfg)
    head.init_weights()
    return head


def _identity_flow(head):
    """Zero the last layers of RealNVP's s/t nets: G_xi = N(0, I) exactly."""
    for net in list(head.flow.s) + list(head.flow.t):
        torch.nn.init.zeros_(net[-2 if isinstance(net[-1], torch.nn.Tanh)
                                 else -1].weight)
        torch.nn.init.zeros_(net[-2 if isinstance(net[-1], torch.nn.Tanh)
                                 else -1].bias)


def _samples(keypoints):
    """PoseDataSamples with the targets the configs' pipeline produces."""
    codec = IntegralRegressionLabel((IN, IN), (HM, HM), sigma=2,
                                    normalize=False)
    samples = []
    for kpt in keypoints:
        kpt = np.asarray(kpt, dtype=np.float32)[None]
        vis = np.ones(kpt.shape[:2], dtype=np.float32)
        enc = codec.encode(kpt, vis)
        s = PoseDataSample(metainfo=dict(
            input_size=(IN, IN), flip_indices=list(range(K))))
        s.gt_fields = PixelData(heatmaps=torch.from_numpy(enc['heatmaps']))
        s.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(enc['keypoint_weights']),
            keypoint_labels=torch.from_numpy(enc['keypoint_labels']))
        samples.append(s)
    return samples


def _feats(b=2, requires_grad=False):
    feats = RFMHourglassOutput(
        heatmaps=tuple(torch.rand(b, K, HM, HM) for _ in range(2)),
        levels=(),
        stack_feats=(),
        features=tuple(
            torch.randn(b, c, HM >> i, HM >> i)
            for i, c in enumerate(SFM['in_channels'])))
    return feats


def test_h2_has_h1_shape_and_peaks_at_mu_hat():
    head = _head().eval()
    h1 = _feats().heatmaps[-1]
    mu = torch.tensor([[[0.25, 0.5], [0.75, 0.1], [0.5, 0.5]],
                       [[0.1, 0.9], [0.4, 0.6], [0.9, 0.3]]])
    sigma = torch.full_like(mu, 0.05)
    with torch.no_grad():
        h2 = head.render_heatmaps(mu, sigma, (HM, HM))
    assert h2.shape == h1.shape
    assert torch.allclose(h2.flatten(2).amax(-1), torch.ones(2, K))
    idx = h2.flatten(2).argmax(-1)
    peak = torch.stack([idx % HM, idx // HM], -1).float()
    assert (peak - mu * HM).abs().max() <= 1.0


def test_h2_with_identity_flow_is_the_gaussian_of_mu_sigma():
    """Q = G = N(0, I): P = 2 Q(x_bar), peak-normalised exp(-|x_bar|^2/2)."""
    head = _head()
    _identity_flow(head)
    _, f_mean, f_std = head.flow_density_grid()
    assert torch.allclose(f_mean, torch.zeros(2), atol=1e-4)
    assert torch.allclose(f_std, torch.ones(2), atol=1e-3)
    mu = torch.tensor([[[0.3, 0.6], [0.5, 0.5], [0.8, 0.2]]])
    sigma = torch.tensor([[[0.05, 0.08], [0.1, 0.1], [0.06, 0.04]]])
    with torch.no_grad():
        h2 = head.render_heatmaps(mu, sigma, (HM, HM))
    ys, xs = torch.meshgrid(
        torch.arange(HM) / HM, torch.arange(HM) / HM, indexing='ij')
    x_bar_sq = (((xs - mu[..., 0, None, None]) / sigma[..., 0, None, None])**2
                + ((ys - mu[..., 1, None, None]) /
                   sigma[..., 1, None, None])**2)
    ref = torch.exp(-0.5 * x_bar_sq)
    ref = ref / ref.flatten(2).amax(-1)[..., None, None]
    assert torch.allclose(h2, ref, atol=1e-2)


def test_flow_lookup_matches_grid_sample_values_and_gradients():
    head = _head(flow_grid_size=9, flow_grid_range=2.0)
    density = torch.rand(9, 9, requires_grad=True)
    z = (torch.rand(4, 5, 2) * 5 - 2.5).requires_grad_()  # some outside
    fast = head._bilinear(density, z)
    ref = torch.nn.functional.grid_sample(
        density[None, None], z[None] / 2.0, align_corners=True,
        padding_mode='zeros')[0, 0]
    inside = (z.abs() <= 2.0).all(-1)
    assert inside.any() and (~inside).any()
    assert torch.allclose(fast[inside], ref[inside], atol=1e-6)
    assert (fast[~inside] == 0).all()
    g_fast = torch.autograd.grad(fast[inside].sum(), (density, z))
    g_ref = torch.autograd.grad(ref[inside].sum(), (density, z))
    assert torch.allclose(g_fast[0], g_ref[0], atol=1e-5)
    assert torch.allclose(g_fast[1][inside], g_ref[1][inside], atol=1e-4)


def test_checkpointed_flow_grid_matches_plain_evaluation(monkeypatch):
    torch.manual_seed(0)
    head = _head(flow_grid_size=12, flow_grid_range=3.0)
    for p in head.flow.parameters():  # a non-trivial flow
        torch.nn.init.normal_(p, std=0.3)
    monkeypatch.setattr(DLMHead, '_flow_chunk', 50)  # uneven chunks
    density, mean, std = head.flow_density_grid()
    params = list(head.flow.parameters())
    weights = torch.rand(12, 12)
    grads = torch.autograd.grad((density * weights).sum(), params)
    axis = torch.linspace(-3.0, 3.0, 12)
    gy, gx = torch.meshgrid(axis, axis, indexing='ij')
    pts = torch.stack([gx, gy], -1).view(-1, 2)
    ref = head.flow.log_prob(pts).exp().view(12, 12)
    ref_grads = torch.autograd.grad((ref * weights).sum(), params)
    assert torch.allclose(density, ref, rtol=1e-5, atol=1e-8)
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, r, rtol=1e-4, atol=1e-7)
    w = ref.detach().flatten() / ref.detach().sum()
    assert torch.allclose(mean, (w[:, None] * pts).sum(0), atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(head.flow_density_grid()[0], density)


def test_chi_sigma_is_detached_clamped_mean_and_constant_option():
    head = _head()
    logits = torch.randn(2, K, 2, requires_grad=True)
    sigma = logits.sigmoid()
    chi = head.compute_chi(sigma)
    assert not chi.requires_grad
    assert torch.allclose(chi, sigma.mean(-1))
    assert chi.min() >= 0 and chi.max() <= 1
    # clamping matters for sigmas outside (0, 1)
    assert torch.equal(
        head.compute_chi(torch.tensor([[[1.5, 2.5], [-1., -3.]]])),
        torch.tensor([[1., 0.]]))
    const = _head(chi=0.25).compute_chi(sigma)
    assert torch.equal(const, torch.full((2, K), 0.25))
    for bad in ('mean', 1.5, -0.1, True):
        with pytest.raises(ValueError, match='chi'):
            _head(chi=bad)


def test_loss_weighting_follows_eq8():
    feats = _feats()
    samples = _samples([[[10, 20], [30, 40], [50, 12]],
                        [[32, 32], [8, 56], [60, 4]]])
    cpm = CPMHead(K, K, num_stages=2, final_layer=None)
    ref = cpm.loss(list(feats.heatmaps), samples)['loss_kpt']

    # chi = 0: H_1 term is the stock multi-stage loss, H_2 term vanishes
    zero = _head(chi=0.0).loss(feats, samples)
    assert torch.allclose(zero['loss_kpt'], ref)
    assert zero['loss_dlm'] == 0
    # chi = 1: only the intermediate stack supervises the backbone heatmaps
    one = _head(chi=1.0).loss(feats, samples)
    inter = cpm.loss_module(feats.heatmaps[0],
                            torch.stack([s.gt_fields.heatmaps
                                         for s in samples]),
                            torch.ones(2, K))
    assert torch.allclose(one['loss_kpt'], inter)
    # chi = sigma: per-keypoint weights from the regressed sigma
    head = _head()
    losses = head.loss(feats, samples)
    with torch.no_grad():
        _, logit = head.forward_distribution(feats)
    assert torch.allclose(losses['chi'], logit.sigmoid().mean())
    assert all(torch.isfinite(v).all() for v in losses.values())


def test_loss_decreases_when_overfitting_a_tiny_batch():
    torch.manual_seed(0)
    backbone = RFMHourglassNet(
        K, num_stacks=2, feat_channels=16, stem_channels=(8, 16),
        se_ratio=4, level_channels=SFM['in_channels'])
    head = _head()
    params = list(backbone.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=2e-3)
    imgs = torch.rand(2, 3, IN, IN)
    samples = _samples([[[10, 20], [30, 40], [50, 12]],
                        [[32, 32], [8, 56], [60, 4]]])
    totals, dlm = [], []
    for _ in range(25):
        losses = head.loss(backbone(imgs), samples)
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        opt.zero_grad()
        total.backward()
        opt.step()
        assert torch.isfinite(total)
        totals.append(total.item())
        dlm.append((losses['loss_dlm'] + losses['loss_rle']).item())
    assert np.mean(totals[-5:]) < np.mean(totals[:5]) - 0.01 * abs(
        np.mean(totals[:5]))
    assert np.mean(dlm[-5:]) < np.mean(dlm[:5])
    # the flow received gradient through both the NLL and H_2
    assert any(p.grad.abs().sum() > 0 for p in head.flow.parameters())


def test_inference_decodes_h1_without_running_sfm_or_flow(monkeypatch):
    head = _head().eval()
    feats = _feats(b=1)

    def boom(*args, **kwargs):
        raise AssertionError('ran at inference')

    monkeypatch.setattr(head.sfm, 'forward', boom)
    monkeypatch.setattr(head.flow, 'log_prob', boom)
    samples = _samples([[[10, 20], [30, 40], [50, 12]]])
    preds = head.predict(feats, samples, test_cfg=dict(flip_test=False))
    ref = CPMHead(K, K, num_stages=2, final_layer=None, decoder=CODEC).predict(
        list(feats.heatmaps), samples)
    assert np.allclose(preds[0].keypoints, ref[0].keypoints)
    flipped = head.predict([feats, feats], samples,
                           test_cfg=dict(flip_test=True))
    assert flipped[0].keypoints.shape == (1, K, 2)


def test_predict_distribution_and_clear_errors():
    head = _head().eval()
    feats = _feats(b=1)
    with torch.no_grad():
        mu, sigma, h2 = head.predict_distribution(feats)
    assert mu.shape == sigma.shape == (1, K, 2)
    assert h2.shape == feats.heatmaps[-1].shape
    with pytest.raises(ValueError, match='features'):
        head.forward_distribution(feats._replace(features=()))
    with pytest.raises(ValueError, match='2 stack heatmaps'):
        head.forward(feats._replace(heatmaps=feats.heatmaps[:1]))
    samples = _samples([[[10, 20], [30, 40], [50, 12]]])
    del samples[0].gt_instance_labels.keypoint_labels
    with pytest.raises(ValueError, match='IntegralRegressionLabel'):
        head.loss(feats, samples)
