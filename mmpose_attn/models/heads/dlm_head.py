# Copyright (c) mmpose_attn contributors. All rights reserved.
"""Distribution Learning Module of `SADI-Net`_ (Gao et al., arXiv
2311.05323, Sec. III-D and III-E, Eq. 4-8).

.. _`SADI-Net`: https://arxiv.org/abs/2311.05323
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.heads import CPMHead
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from ..utils import float32_under_autocast


@MODELS.register_module()
class DLMHead(CPMHead):
    """Multi-stack heatmap head + Distribution Learning Module (DLM) of
    `SADI-Net`_ (Sec. III-B to III-E, Eq. 4-8).

    Heatmaps: one 1x1 conv per stack (``CPMHead``'s ``multi_final_layers``,
    after optional deconvolutions) on the stacks' features; the last one is
    H_1 (Sec. III-B), the one decoded at inference.

    Training (Sec. III-C to III-E):

    1. The features F_1..F_N go through the Spatial Fusion Module (``sfm``,
       built here so it runs only in training); its pooled output is
       regressed by one linear layer to the keypoint location mu_hat and
       the scale logits of sigma_hat (as MMPose's :class:`RLEHead`), in
       coordinates normalised by the input size.
    2. MMPose's :class:`RLELoss` (its :class:`RealNVP` is the flow G_xi)
       gives the negative log-likelihood of the ground truth mu_g (Eq. 4),
       with the residual z = (mu_hat - mu_g) / sigma_hat as RLELoss defines
       it. It is the only term that trains mu_hat and sigma_hat.
    3. The learnable heatmap H_2 is that same likelihood at every pixel x of
       H_1's grid: H_2(x) = exp(-L_rle(mu_g = x)), divided by its maximum
       (the ground-truth heatmaps peak at 1), i.e. P_{theta,xi}(x | T) of
       Eq. 4 rendered as a heatmap.
    4. L = sum of the intermediate stacks' MSE + (1 - chi) * L(H_1) +
       chi * L(H_2) (Eq. 8) + ``rle_loss_weight`` * RLE NLL. chi is per
       keypoint: ``'sigma'`` (default, "we set chi = sigma") takes the mean
       of sigma_hat's two components, detached and clamped to [0, 1]; a float
       is a constant chi. L(H_2) (Eq. 7) depends on ``h2_mode``:

       - ``'coupled'`` (default, the paper's one objective): MSE(H_2,
         ground-truth heatmap) with H_2 rendered from mu_hat and sigma_hat
         *with* their gradients, so L(H_2) trains the flow, the regression
         layer, the SFM and (through F_1..F_N, see
         ``RFMHourglassNet.feature_grad_scale``) the backbone;
       - ``'learned_target'`` (Fig. 1: the DLM makes "new supervised
         heatmaps"): MSE(H_1, H_2) with H_2 a target (no gradient), i.e.
         H_2 takes the place of the prior Gaussian for the chi share of
         H_1's supervision; the DLM is trained by the likelihood alone;
       - ``'flow_only'`` (the ``-detached`` ablation): MSE(H_2, ground
         truth) with mu_hat and sigma_hat detached: L(H_2) trains the flow
         only.

    mu_hat starts at the image centre and sigma_hat at ``init_sigma`` (the
    ground-truth heatmap's width), so chi = sigma_hat leaves H_1 almost all
    its supervision from the first step.

    G_xi does not depend on the image, so its log-density is evaluated once
    per step on a fixed ``flow_grid_size``^2 grid over [-flow_grid_range,
    flow_grid_range]^2 and sampled bilinearly at every pixel's residual: the
    flow runs on K points per image (the NLL) plus one small grid, never on
    B*K*H*W pixels. The grid's flow activations are recomputed in the
    backward pass (chunked activation checkpointing, ``_flow_chunk`` points
    at a time) rather than stored: one extra flow forward on the grid for
    ~50 MB less peak memory per step.

    Inference decodes H_1 exactly as :class:`CPMHead` (flip test included);
    the SFM and the flow run only in :meth:`loss` or when asked
    (:meth:`predict_distribution`).

    Note:
        - B: batch size; K: ``out_channels``; S: ``num_stacks``
        - N: ``len(sfm['in_channels'])``, the levels F_1..F_N
        - C: ``in_channels``; [h, w]: heatmap size

        Input ``feats``, a plain tuple read by position: F_n =
        ``feats[level_indices[n - 1]]`` (default: the first N entries) and
        the features of stack s = ``feats[stack_indices[s - 1]]``
        (B, C, h', w') (default: the last S entries, the last one giving
        H_1). :class:`RFMHourglassNet` returns ``(F_1..F_N, y_1..y_S)``, so
        the defaults read it; MMPose's ``ResNet(out_indices=(0, 1, 2, 3))``
        gives F_1..F_4 and (with deconvolutions) H_1 from its last stage; on
        ``HRNet(multiscale_output=True)`` H_1 comes from the first branch
        (``stack_indices=(0, )``). Output of :meth:`forward`: S heatmaps
        (B, K, h, w), H_1 last.

    Args:
        in_channels (int): Channels of the stacks' features.
        out_channels (int): Number of keypoints K.
        num_stacks (int): Stacks (one heatmap each). Defaults to 1.
        sfm (dict): Config of the :class:`SpatialFusionModule`; its
            ``in_channels`` are F_1..F_N's. Defaults to the paper's.
        level_indices (Sequence[int], optional): Positions of F_1..F_N in
            the input. Defaults to ``None``: ``0..N-1``.
        stack_indices (Sequence[int], optional): Positions of the stacks'
            features, H_1's last. Defaults to ``None``: the last S.
        deconv_out_channels (Sequence[int], optional): Deconvolutions before
            each heatmap conv, as :class:`CPMHead`'s (e.g. ``(256, 256,
            256)`` on ResNet's stride-32 stage). Defaults to ``None``.
        deconv_kernel_sizes (Sequence[int], optional): Their kernel sizes.
            Defaults to ``None``.
        loss (dict): Heatmap loss of every stack, H_1 and H_2. Defaults to
            ``KeypointMSELoss(use_target_weight=True)``.
        dist_loss (dict): Config of the :class:`RLELoss` (Eq. 4). Defaults
            to Gaussian Q, as the paper's Q.
        rle_loss_weight (float): Weight of the RLE NLL. Eq. 8 has no such
            term; it trains mu_hat, sigma_hat and the flow (Eq. 4). Defaults
            to 1e-3, so that its gradient does not swamp the heatmap MSE
            (O(1e-3)) in the shared backbone.
        chi (str | float): ``'sigma'`` or a constant in [0, 1] (Eq. 8).
            Defaults to ``'sigma'``.
        h2_mode (str): What L(H_2) compares and trains: ``'coupled'``,
            ``'learned_target'`` or ``'flow_only'`` (see above). Defaults to
            ``'coupled'``.
        h2_min_sigma (float): Stability switch for Eq. 7 (``'coupled'``):
            lower bound, in heatmap pixels of H_1, on the sigma_hat H_2 is
            rendered with; below it H_2 is narrower than a pixel and its
            gradient on mu_hat is carried by one or two pixels. The
            likelihood (Eq. 4) always sees sigma_hat unclamped. Defaults to
            0 (off, the paper's numerics).
        init_sigma (float, optional): Initial sigma_hat (normalised by the
            input size). ``None``: the decoder's Gaussian sigma divided by
            its heatmap width (2 / 64 for the MPII configs). Defaults to
            ``None``.
        flow_grid_size (int): Samples per axis of the flow log-density grid.
            Defaults to 64.
        flow_grid_range (float): Half-width of that grid (standardised
            units); the flow density is taken as 0 outside it. Defaults to
            6.0.
        decoder (dict, optional): Heatmap codec, e.g. ``MSRAHeatmap``.
            Defaults to ``None``.
        init_cfg (dict, optional): Initialization config. Defaults to
            :attr:`default_init_cfg`.

    .. _`SADI-Net`: https://arxiv.org/abs/2311.05323
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_stacks: int = 1,
                 sfm: ConfigType = dict(type='SpatialFusionModule'),
                 level_indices: Optional[Sequence[int]] = None,
                 stack_indices: Optional[Sequence[int]] = None,
                 deconv_out_channels: Optional[Sequence[int]] = None,
                 deconv_kernel_sizes: Optional[Sequence[int]] = None,
                 loss: ConfigType = dict(
                     type='KeypointMSELoss', use_target_weight=True),
                 dist_loss: ConfigType = dict(
                     type='RLELoss',
                     use_target_weight=True,
                     q_distribution='gaussian'),
                 rle_loss_weight: float = 1e-3,
                 chi: Union[str, float] = 'sigma',
                 h2_mode: str = 'coupled',
                 h2_min_sigma: float = 0.0,
                 init_sigma: Optional[float] = None,
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
        if h2_mode not in self.H2_MODES:
            raise ValueError(f'DLMHead: h2_mode must be one of '
                             f'{self.H2_MODES}, got {h2_mode!r}')
        if not h2_min_sigma >= 0.0:
            raise ValueError(
                f'DLMHead: h2_min_sigma must be >= 0, got {h2_min_sigma!r}')
        if init_sigma is None:
            if not decoder or 'sigma' not in decoder:
                raise ValueError(
                    'DLMHead: give init_sigma or a heatmap decoder with '
                    '`sigma` and `heatmap_size` to take it from')
            init_sigma = decoder['sigma'] / decoder['heatmap_size'][0]
        if not 0.0 < init_sigma < 1.0:
            raise ValueError(
                f'DLMHead: init_sigma must be in (0, 1), got {init_sigma}')
        if stack_indices is None:
            stack_indices = range(-num_stacks, 0)
        if len(stack_indices) != num_stacks:
            raise ValueError(
                f'DLMHead: {len(stack_indices)} stack_indices for '
                f'num_stacks={num_stacks}')
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            num_stages=num_stacks,
            deconv_out_channels=deconv_out_channels,
            deconv_kernel_sizes=deconv_kernel_sizes,
            final_layer=dict(kernel_size=1),
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg)
        self.num_stacks = num_stacks
        self.chi = chi
        self.h2_mode = h2_mode
        self.h2_min_sigma = float(h2_min_sigma)
        self.rle_loss_weight = rle_loss_weight
        self.init_sigma = float(init_sigma)
        self.flow_grid_size = flow_grid_size
        self.flow_grid_range = float(flow_grid_range)
        self.sfm = MODELS.build(sfm)
        if level_indices is None:
            level_indices = range(len(self.sfm.in_channels))
        if len(level_indices) != len(self.sfm.in_channels):
            raise ValueError(
                f'DLMHead: {len(level_indices)} level_indices for an SFM '
                f'over {len(self.sfm.in_channels)} levels')
        self.level_indices = tuple(level_indices)
        self.stack_indices = tuple(stack_indices)
        self.fc = nn.Linear(self.sfm.out_channels, out_channels * 4)
        self.dist_loss = MODELS.build(dist_loss)
        if not hasattr(self.dist_loss, 'flow_model'):
            raise ValueError(
                'DLMHead: dist_loss must own a `flow_model` (RLELoss), got '
                f'{type(self.dist_loss).__name__}')

    H2_MODES = ('coupled', 'learned_target', 'flow_only')

    # Grid points per checkpointed flow evaluation (see the class docstring).
    _flow_chunk = 2048

    @property
    def default_init_cfg(self):
        # CPMHead's init for the heatmap layers (its BatchNorm init is
        # PyTorch's default), RLEHead's for the regression layer; the SFM
        # (which has no ConvTranspose2d) and the RealNVP keep their own.
        return [
            dict(type='Normal', layer='ConvTranspose2d', std=0.001),
            dict(
                type='Normal',
                std=0.001,
                override=dict(name='multi_final_layers')),
            dict(type='Normal', std=0.01, bias=0, override=dict(name='fc')),
        ]

    def init_weights(self):
        """RLEHead's init, then the biases put mu_hat at the image centre
        (RLE's own coordinates are centred there) and sigma_hat at
        ``init_sigma``: a sigmoid(0) = 0.5 start would make chi = sigma_hat
        take half of H_1's supervision away."""
        super().init_weights()
        with torch.no_grad():
            bias = self.fc.bias.view(-1, 4)
            bias[:, :2] = 0.5
            bias[:, 2:] = math.log(self.init_sigma / (1 - self.init_sigma))

    @property
    def flow(self) -> nn.Module:
        return self.dist_loss.flow_model

    @staticmethod
    def _select(feats: Sequence[Tensor], indices: Sequence[int],
                what: str) -> List[Tensor]:
        try:
            return [feats[i] for i in indices]
        except (IndexError, TypeError):
            raise ValueError(
                f'DLMHead: {what} are expected at positions {list(indices)} '
                f'of the input, which has {len(feats)} entries (see the '
                'class Note: RFMHourglassNet with level_channels gives '
                '(F_1..F_N, y_1..y_S))') from None

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """Per-stack heatmaps.

        Args:
            feats (Sequence[Tensor]): The backbone's output (see the class
                Note); the stacks' features are read at ``stack_indices``.

        Returns:
            list[Tensor]: S heatmaps (B, K, h, w), H_1 last.
        """
        return super().forward(
            self._select(feats, self.stack_indices, "the stacks' features"))

    def forward_distribution(self,
                             feats: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """SFM + regression.

        Args:
            feats (Sequence[Tensor]): The backbone's output; F_1..F_N are
                read at ``level_indices``.

        Returns:
            tuple[Tensor, Tensor]: mu_hat (B, K, 2) and the sigma logits
            (B, K, 2), normalised by the input size.
        """
        x = self.sfm(self._select(feats, self.level_indices,
                                  'F_1..F_N'))[-1]
        x = self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
        x = x.view(x.shape[0], -1, 4)
        return x[..., :2], x[..., 2:]

    def log_base_density(self, z: Tensor) -> Tensor:
        """log Q(z) per coordinate, up to a constant (RLELoss's ``loss_q``
        without its sigma term)."""
        if self.dist_loss.q_distribution == 'laplace':
            return -z.abs()
        return -0.5 * z.pow(2)

    def flow_log_density_grid(self) -> Tensor:
        """log G_xi on the fixed grid, shape (G, G) indexed [y, x]."""
        r, n = self.flow_grid_range, self.flow_grid_size
        axis = torch.linspace(-r, r, n, device=self.fc.weight.device)
        gy, gx = torch.meshgrid(axis, axis, indexing='ij')
        return self._flow_log_prob(torch.stack([gx, gy], -1).view(-1,
                                                                 2)).view(n, n)

    @float32_under_autocast
    def _flow_log_prob(self, pts: Tensor) -> Tensor:
        if not torch.is_grad_enabled():
            return self.flow.log_prob(pts)
        # Same values and gradients; the flow's activations on the grid are
        # not kept for the backward pass but recomputed there, chunk-wise.
        return torch.cat([
            checkpoint(self.flow.log_prob, chunk, use_reentrant=False)
            for chunk in pts.split(self._flow_chunk)
        ])

    @float32_under_autocast
    def render_heatmaps(self, mu: Tensor, sigma: Tensor,
                        heatmap_size: Tuple[int, int]) -> Tensor:
        """H_2: (B, K, H, W) likelihood of the ground truth at every pixel
        under the RLE loss of mu_hat and sigma_hat (B, K, 2, normalised by
        the input size), divided by its maximum. Pixel (i, j) of a W x H
        heatmap sits at (j / W, i / H), the MSRAHeatmap convention.

        exp(-L_rle) as a function of mu_g: Q(z) per coordinate and, as in
        MMPose's (and the original) RLELoss, log G_xi(z) counted once per
        coordinate, with z = (mu_hat - x) / sigma_hat; the sigma terms are
        constant over x and cancel in the normalisation."""
        w_hm, h_hm = heatmap_size
        xs = torch.arange(w_hm, device=mu.device, dtype=mu.dtype) / w_hm
        ys = torch.arange(h_hm, device=mu.device, dtype=mu.dtype) / h_hm
        gy, gx = torch.meshgrid(ys, xs, indexing='ij')
        pix = torch.stack([gx, gy], -1)  # (H, W, 2) as (x, y)
        sigma = sigma.clamp_min(1e-6)  # a sigmoid can underflow to 0
        z = (mu[:, :, None, None] - pix) / sigma[:, :, None, None]
        log_g = self._bilinear(self.flow_log_density_grid(), z)
        log_p = self.log_base_density(z).sum(-1) + z.shape[-1] * log_g
        log_h = log_p - log_p.flatten(2).amax(-1)[..., None, None]
        # Values below the dtype's resolution of the peak (1.2e-7 in
        # float32) are set to 0: the heatmap to float rounding. Kept, these
        # far tails send gradients of 1e-20 and less into the flow, whose
        # backward pass (weights ~1e-3, RealNVP's init) turns them into
        # denormal numbers, on which the CPU's matrix products run ~20x
        # slower (README "Cost").
        eps = math.log(torch.finfo(log_h.dtype).eps)
        return torch.where(log_h >= eps, log_h.exp(), log_h.new_zeros(()))

    # log G_xi outside the grid: the density is taken as 0 there.
    _log_zero = -1e4

    def _bilinear(self, grid: Tensor, z: Tensor) -> Tensor:
        """Bilinear lookup of the (G, G) grid at points z (..., 2) as (x, y);
        ``_log_zero`` outside the grid. Gathers by hand: CPU
        ``grid_sample``'s backward is orders of magnitude slower for this
        one-image, many-point case."""
        n, r = self.flow_grid_size, self.flow_grid_range
        u = (z + r) * ((n - 1) / (2 * r))
        inside = ((u >= 0) & (u <= n - 1)).all(-1)
        u0 = u.detach().floor().clamp(0, n - 2)
        frac = u - u0
        ix, iy = u0.long().unbind(-1)
        fx, fy = frac.unbind(-1)
        flat = grid.reshape(-1)
        base = iy * n + ix
        val = (flat[base] * (1 - fx) * (1 - fy) + flat[base + 1] * fx *
               (1 - fy) + flat[base + n] * (1 - fx) * fy +
               flat[base + n + 1] * fx * fy)
        return torch.where(inside, val, val.new_tensor(self._log_zero))

    @float32_under_autocast
    def rle_nll(self, mu: Tensor, sigma_logit: Tensor, labels: Tensor,
                weights: Tensor) -> Tensor:
        """The RLE loss (Eq. 4) in float32."""
        return self.dist_loss(mu, sigma_logit, labels, weights.unsqueeze(-1))

    def compute_chi(self, sigma: Tensor) -> Tensor:
        """chi per keypoint (B, K) from sigma_hat (B, K, 2); never carries
        gradient."""
        if self.chi == 'sigma':
            return sigma.detach().mean(-1).clamp(0.0, 1.0)
        return sigma.new_full(sigma.shape[:2], float(self.chi))

    def predict_distribution(self, feats: Sequence[Tensor]
                             ) -> Tuple[Tensor, Tensor, Tensor]:
        """The DLM's reading of one (non-TTA) backbone output, for analysis
        and visualisation.

        Args:
            feats (Sequence[Tensor]): The backbone's output (class Note).

        Returns:
            tuple[Tensor, Tensor, Tensor]: mu_hat and sigma_hat (B, K, 2,
            normalised by the input size) and H_2 (B, K, h, w).
        """
        h1 = self.forward(feats)[-1]
        mu, sigma_logit = self.forward_distribution(feats)
        sigma = sigma_logit.sigmoid()
        h2 = self.render_heatmaps(mu, sigma, (h1.shape[-1], h1.shape[-2]))
        return mu, sigma, h2

    def regression_targets(self, batch_data_samples) -> Tuple[Tensor, Tensor]:
        """mu_g (B, K, 2) and the RLE weights (B, K) with the semantics of
        MMPose's :class:`RegressionLabel`: keypoints divided by the input
        size; weight 0 outside the input or where the heatmap weight is 0."""
        weights = torch.cat([
            d.gt_instance_labels.keypoint_weights for d in batch_data_samples
        ]).float()  # datasets may give float64 visibilities
        if not all('transformed_keypoints' in d.gt_instances
                   for d in batch_data_samples):
            raise ValueError(
                f'{type(self).__name__}: the data samples have no '
                '`transformed_keypoints`; pack them with '
                "dict(type='PackPoseInputs', pack_transformed=True)")
        kpts = torch.cat([
            torch.as_tensor(d.gt_instances.transformed_keypoints)
            for d in batch_data_samples
        ]).to(weights)
        size = kpts.new_tensor(
            [d.metainfo['input_size'] for d in batch_data_samples])[:, None]
        inside = ((kpts >= 0) & (kpts <= size - 1)).all(-1)
        return kpts / size, weights * inside

    def loss(self,
             feats: Sequence[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> dict:
        """Eq. 8's heatmap terms and the RLE NLL (see the class docstring).

        Args:
            feats (Sequence[Tensor]): The backbone's output (class Note).
            batch_data_samples (list[PoseDataSample]): With
                ``gt_fields.heatmaps`` (K, h, w),
                ``gt_instance_labels.keypoint_weights`` (1, K) and
                ``gt_instances.transformed_keypoints`` (1, K, 2).
            train_cfg (dict): Unused. Defaults to ``{}``.

        Returns:
            dict: ``loss_kpt`` (the stacks' MSE, H_1's weighted by
            1 - chi), ``loss_dlm`` (chi * L(H_2)), ``loss_rle`` (weighted
            NLL), ``acc_pose`` (of H_1) and ``chi`` (its mean, a log value).
        """
        heatmaps = self.forward(feats)
        h1 = heatmaps[-1]
        gt_heatmaps = torch.stack(
            [d.gt_fields.heatmaps for d in batch_data_samples])
        # The heatmap codec's weights (MSRAHeatmap: 1 while the Gaussian
        # overlaps the heatmap) for every heatmap term.
        keypoint_weights = torch.cat([
            d.gt_instance_labels.keypoint_weights for d in batch_data_samples
        ])
        labels, rle_weights = self.regression_targets(batch_data_samples)

        mu, sigma_logit = self.forward_distribution(feats)
        sigma = sigma_logit.float().sigmoid()
        chi = self.compute_chi(sigma)
        size = (h1.shape[-1], h1.shape[-2])
        if self.h2_mode == 'learned_target':
            with torch.no_grad():  # a target: L(H_2) trains H_1
                h2 = self.render_heatmaps(mu, sigma, size)
            h2_pred, h2_target = h1, h2
        else:
            mu_h2, sigma_h2 = mu, sigma
            if self.h2_mode == 'flow_only':
                mu_h2, sigma_h2 = mu.detach(), sigma.detach()
            elif self.h2_min_sigma > 0:
                # the stability clamp of Eq. 7 (h2_min_sigma, heatmap px)
                sigma_h2 = torch.maximum(
                    sigma,
                    sigma.new_tensor([self.h2_min_sigma / size[0],
                                      self.h2_min_sigma / size[1]]))
            h2 = self.render_heatmaps(mu_h2, sigma_h2, size)
            h2_pred, h2_target = h2, gt_heatmaps

        loss_kpt = sum(
            (self.loss_module(h, gt_heatmaps, keypoint_weights)
             for h in heatmaps[:-1]), h1.new_zeros(()))
        loss_kpt = loss_kpt + self.loss_module(h1, gt_heatmaps,
                                               keypoint_weights * (1 - chi))
        loss_dlm = self.loss_module(h2_pred, h2_target,
                                    keypoint_weights * chi)
        loss_rle = self.rle_nll(mu, sigma_logit, labels, rle_weights)

        _, avg_acc, _ = pose_pck_accuracy(
            output=to_numpy(h1.float()),
            target=to_numpy(gt_heatmaps),
            mask=to_numpy(keypoint_weights) > 0)
        return dict(
            loss_kpt=loss_kpt,
            loss_dlm=loss_dlm,
            loss_rle=loss_rle * self.rle_loss_weight,
            acc_pose=torch.tensor(avg_acc, device=gt_heatmaps.device),
            chi=chi.mean().detach())
