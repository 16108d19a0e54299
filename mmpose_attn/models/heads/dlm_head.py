"""Distribution Learning Module of SADI-Net (Gao et al., arXiv 2311.05323,
Sec. III-D and III-E, Eq. 4-8)."""
import math
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.heads import CPMHead
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList


@MODELS.register_module()
class DLMHead(CPMHead):
    """Multi-stack heatmap head + Distribution Learning Module (DLM).

    Training (Sec. III-C to III-E):

    1. The backbone's features F_1..F_N go through the Spatial Fusion Module
       (``sfm``, built here so it runs only in training); the pooled output
       is regressed by one linear layer to the keypoint location mu_hat and
       the scale logits of sigma_hat (as MMPose's :class:`RLEHead`), in
       coordinates normalised by the input size.
    2. MMPose's :class:`RLELoss` (its :class:`RealNVP` is the flow G_xi)
       gives the residual log-likelihood of the ground truth (Eq. 4).
    3. The learnable heatmap H_2 is rendered on H_1's grid from
       P(x) = Q(x_bar) + G_xi((x_bar - mu) / sigma), x_bar = (x - mu_hat) /
       sigma_hat (Eq. 5), where mu, sigma are the mean and std of G_xi and Q
       is the RLE loss's base density; H_2 is divided by its maximum (the
       ground-truth heatmaps peak at 1).
    4. L = sum of the intermediate stacks' MSE + (1 - chi) * MSE(H_1) +
       chi * MSE(H_2) (Eq. 8) + ``rle_loss_weight`` * RLE NLL. chi is per
       keypoint: ``'sigma'`` (default, "we set chi = sigma") takes the mean
       of sigma_hat's two components, detached and clamped to [0, 1]; a float
       is a constant chi.

    G_xi does not depend on the image, so it is evaluated once per step on a
    fixed ``flow_grid_size``^2 grid over [-flow_grid_range, flow_grid_range]^2
    (which also gives mu and sigma by quadrature) and sampled bilinearly at
    every pixel's standardised offset: the flow runs on K points per image
    (the NLL) plus one small grid, never on B*K*H*W pixels.

    The grid's flow activations are recomputed in the backward pass
    (chunked activation checkpointing, ``_flow_chunk`` points at a time)
    rather than stored: one extra flow forward on the grid for ~50 MB less
    peak memory per step.

    Inference decodes H_1 exactly as :class:`CPMHead` (flip test included);
    the SFM and the flow run only in :meth:`loss` or when asked
    (:meth:`predict_distribution`).

    Args:
        out_channels (int): Number of keypoints K.
        num_stacks (int): Stacks of the backbone (one heatmap each).
        sfm (dict): Config of the :class:`SpatialFusionModule`.
        loss (dict): Heatmap loss of every stack, H_1 and H_2. Default:
            ``KeypointMSELoss(use_target_weight=True)``.
        dist_loss (dict): Config of the :class:`RLELoss` (Eq. 4). Default:
            Gaussian Q, as the paper's Q.
        rle_loss_weight (float): Weight of the RLE NLL. Eq. 8 has no such
            term; it trains the flow (Eq. 4). Default: 1e-3, so that its
            gradient does not swamp the heatmap MSE (O(1e-3)) in the shared
            backbone.
        chi (str | float): ``'sigma'`` or a constant in [0, 1] (Eq. 8).
        flow_grid_size (int): Samples per axis of the flow-density grid.
        flow_grid_range (float): Half-width of that grid (standardised
            units); the flow density is taken as 0 outside it.
        decoder (dict, optional): Heatmap codec, e.g. ``MSRAHeatmap``.
    """

    def __init__(self,
                 out_channels: int,
                 num_stacks: int = 1,
                 sfm: ConfigType = dict(type='SpatialFusionModule'),
                 loss: ConfigType = dict(
                     type='KeypointMSELoss', use_target_weight=True),
                 dist_loss: ConfigType = dict(
                     type='RLELoss',
                     use_target_weight=True,
                     q_distribution='gaussian'),
                 rle_loss_weight: float = 1e-3,
                 chi: Union[str, float] = 'sigma',
                 flow_grid_size: int = 64,
                 flow_grid_range: float = 6.0,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None):
        if not (chi == 'sigma' or (isinstance(chi, (int, float))
                                   and not isinstance(chi, bool)
                                   and 0.0 <= chi <= 1.0)):
            raise ValueError(
                f"DLMHead: chi must be 'sigma' or a number in [0, 1], got "
                f'{chi!r}')
        if isinstance(loss, (list, tuple)):
            raise ValueError('DLMHead: `loss` must be a single loss config')
        super().__init__(
            in_channels=out_channels,
            out_channels=out_channels,
            num_stages=num_stacks,
            deconv_out_channels=None,
            final_layer=None,
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg)
        self.num_stacks = num_stacks
        self.chi = chi
        self.rle_loss_weight = rle_loss_weight
        self.flow_grid_size = flow_grid_size
        self.flow_grid_range = float(flow_grid_range)
        self.sfm = MODELS.build(sfm)
        self.fc = nn.Linear(self.sfm.head_channels[-1], out_channels * 4)
        self.dist_loss = MODELS.build(dist_loss)
        if not hasattr(self.dist_loss, 'flow_model'):
            raise ValueError(
                'DLMHead: dist_loss must own a `flow_model` (RLELoss), got '
                f'{type(self.dist_loss).__name__}')

    # Grid points per checkpointed flow evaluation (see the class docstring).
    _flow_chunk = 2048

    @property
    def default_init_cfg(self):
        # RLEHead's init for the regression layer; the SFM's ConvModules and
        # the RealNVP keep their own init.
        return [dict(type='Normal', std=0.01, bias=0, override=dict(name='fc'))]

    @property
    def flow(self) -> nn.Module:
        return self.dist_loss.flow_model

    def forward(self, feats) -> list:
        """Per-stack heatmaps of the backbone output; the last one is H_1."""
        heatmaps = list(getattr(feats, 'heatmaps', ()))
        if len(heatmaps) != self.num_stacks:
            raise ValueError(
                f'{type(self).__name__}: expected {self.num_stacks} stack '
                f'heatmaps in the backbone output, got {len(heatmaps)} '
                f'(input type {type(feats).__name__})')
        return heatmaps

    def forward_distribution(self, feats) -> Tuple[Tensor, Tensor]:
        """SFM + regression: mu_hat (B, K, 2) and sigma logits (B, K, 2)."""
        features = getattr(feats, 'features', None)
        if not features:
            raise ValueError(
                f'{type(self).__name__}: the backbone output has no '
                '`features` (F_1..F_N); use RFMHourglassNet with '
                'level_channels')
        x = self.sfm(features)[-1]
        x = self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
        x = x.view(x.shape[0], -1, 4)
        return x[..., :2], x[..., 2:]

    def base_density(self, x_bar: Tensor) -> Tensor:
        """Q(x_bar): the RLE loss's standard Gaussian (or Laplace) density."""
        if self.dist_loss.q_distribution == 'laplace':
            return torch.exp(-x_bar.abs().sum(-1)) / 4
        return torch.exp(-0.5 * x_bar.pow(2).sum(-1)) / (2 * math.pi)

    def flow_density_grid(self) -> Tuple[Tensor, Tensor, Tensor]:
        """G_xi on the fixed grid, shape (G, G) indexed [y, x], and its mean
        and std (2,) by quadrature (statistics detached)."""
        r, n = self.flow_grid_range, self.flow_grid_size
        axis = torch.linspace(-r, r, n, device=self.fc.weight.device)
        gy, gx = torch.meshgrid(axis, axis, indexing='ij')
        pts = torch.stack([gx, gy], -1).view(-1, 2)
        if torch.is_grad_enabled():
            # Same values and gradients; the flow's activations on the
            # G x G grid (~50 MB for G = 64) are not kept for the backward
            # pass but recomputed there, one chunk at a time.
            log_p = torch.cat([
                checkpoint(self.flow.log_prob, chunk, use_reentrant=False)
                for chunk in pts.split(self._flow_chunk)
            ])
        else:
            log_p = self.flow.log_prob(pts)
        density = log_p.exp()
        with torch.no_grad():
            w = density / density.sum().clamp_min(1e-12)
            mean = (w[:, None] * pts).sum(0)
            std = (w[:, None] * (pts - mean).pow(2)).sum(0).sqrt()
        return density.view(n, n), mean, std.clamp_min(1e-6)

    def render_heatmaps(self, mu: Tensor, sigma: Tensor,
                        heatmap_size: Tuple[int, int]) -> Tensor:
        """H_2 (Eq. 5): (B, K, H, W) from mu_hat and sigma_hat (B, K, 2)
        normalised by the input size; pixel (i, j) of a W x H heatmap sits at
        (j / W, i / H), the MSRAHeatmap convention."""
        w_hm, h_hm = heatmap_size
        xs = torch.arange(w_hm, device=mu.device, dtype=mu.dtype) / w_hm
        ys = torch.arange(h_hm, device=mu.device, dtype=mu.dtype) / h_hm
        gy, gx = torch.meshgrid(ys, xs, indexing='ij')
        pix = torch.stack([gx, gy], -1)  # (H, W, 2) as (x, y)
        sigma = sigma.clamp_min(1e-6)  # a sigmoid can underflow to 0
        x_bar = (pix - mu[:, :, None, None]) / sigma[:, :, None, None]
        density, f_mean, f_std = self.flow_density_grid()
        flow_term = self._bilinear(density, (x_bar - f_mean) / f_std)
        p = self.base_density(x_bar) + flow_term
        return p / p.flatten(2).amax(-1).clamp_min(1e-12)[..., None, None]

    def _bilinear(self, density: Tensor, z: Tensor) -> Tensor:
        """Bilinear lookup of the (G, G) grid at points z (..., 2) as (x, y);
        0 outside the grid. Gathers by hand: CPU ``grid_sample``'s backward
        is orders of magnitude slower for this one-image, many-point case."""
        n, r = self.flow_grid_size, self.flow_grid_range
        u = (z + r) * ((n - 1) / (2 * r))
        inside = ((u >= 0) & (u <= n - 1)).all(-1)
        u0 = u.detach().floor().clamp(0, n - 2)
        frac = u - u0
        ix, iy = u0.long().unbind(-1)
        fx, fy = frac.unbind(-1)
        flat = density.reshape(-1)
        base = iy * n + ix
        val = (flat[base] * (1 - fx) * (1 - fy) + flat[base + 1] * fx *
               (1 - fy) + flat[base + n] * (1 - fx) * fy +
               flat[base + n + 1] * fx * fy)
        return val * inside

    def compute_chi(self, sigma: Tensor) -> Tensor:
        """chi per keypoint (B, K) from sigma_hat (B, K, 2); never carries
        gradient."""
        if self.chi == 'sigma':
            return sigma.detach().mean(-1).clamp(0.0, 1.0)
        return sigma.new_full(sigma.shape[:2], float(self.chi))

    def predict_distribution(self, feats) -> Tuple[Tensor, Tensor, Tensor]:
        """mu_hat, sigma_hat (B, K, 2, normalised) and H_2 (B, K, H, W) for
        one (non-TTA) backbone output; for analysis and visualisation."""
        h1 = self.forward(feats)[-1]
        mu, sigma_logit = self.forward_distribution(feats)
        sigma = sigma_logit.sigmoid()
        h2 = self.render_heatmaps(mu, sigma, (h1.shape[-1], h1.shape[-2]))
        return mu, sigma, h2

    def loss(self,
             feats,
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> dict:
        heatmaps = self.forward(feats)
        h1 = heatmaps[-1]
        gt_heatmaps = torch.stack(
            [d.gt_fields.heatmaps for d in batch_data_samples])
        keypoint_weights = torch.cat([
            d.gt_instance_labels.keypoint_weights for d in batch_data_samples
        ])
        if 'keypoint_labels' not in batch_data_samples[0].gt_instance_labels:
            raise ValueError(
                f'{type(self).__name__}: the data samples have no '
                '`keypoint_labels`; generate the targets with '
                "GenerateTarget(encoder=dict(type='IntegralRegressionLabel', "
                '..., normalize=False)) (MSRA heatmaps + normalised '
                'keypoints)')
        keypoint_labels = torch.cat([
            d.gt_instance_labels.keypoint_labels for d in batch_data_samples
        ])

        mu, sigma_logit = self.forward_distribution(feats)
        sigma = sigma_logit.sigmoid()
        chi = self.compute_chi(sigma)
        h2 = self.render_heatmaps(mu, sigma, (h1.shape[-1], h1.shape[-2]))

        loss_kpt = sum(
            (self.loss_module(h, gt_heatmaps, keypoint_weights)
             for h in heatmaps[:-1]), h1.new_zeros(()))
        loss_kpt = loss_kpt + self.loss_module(h1, gt_heatmaps,
                                               keypoint_weights * (1 - chi))
        loss_dlm = self.loss_module(h2, gt_heatmaps, keypoint_weights * chi)
        loss_rle = self.dist_loss(mu, sigma_logit, keypoint_labels,
                                  keypoint_weights.unsqueeze(-1))

        _, avg_acc, _ = pose_pck_accuracy(
            output=to_numpy(h1),
            target=to_numpy(gt_heatmaps),
            mask=to_numpy(keypoint_weights) > 0)
        return dict(
            loss_kpt=loss_kpt,
            loss_dlm=loss_dlm,
            loss_rle=loss_rle * self.rle_loss_weight,
            acc_pose=torch.tensor(avg_acc, device=gt_heatmaps.device),
            chi=chi.mean().detach())
