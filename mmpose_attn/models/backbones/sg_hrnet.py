"""SG-HRNet backbone: HRNet with Segmentation Guided Modules.

Tang et al., `SG-HRNet`_, Traitement du Signal 41(5), 2024 (Sec. 3.2-3.3,
Fig. 1-3).

.. _`SG-HRNet`: https://doi.org/10.18280/ts.410522
"""
import logging
from typing import List, Optional, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.models.backbones import HRNet
from mmpose.models.backbones.resnet import get_expansion
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType

#: Where each stage SGM computes its map from (Sec. 3.2-3.3, see SGHRNet).
GUIDANCE_MODES = ('previous_stage', 'self_gating')


class SegmentationGuidedModule(BaseModule):
    """Segmentation Guided Module (SGM) of `SG-HRNet`_, Sec. 3.2, Fig. 2-3.

    A 3x3 convolution maps the features it reads to features suited to
    segmentation, a 1x1 convolution reduces them to one channel and a sigmoid
    gives the keypoint-region map ``s`` in [0, 1]; the guided features are
    ``y = f * s`` (Eq. 4). ``s`` is supervised with the keypoint segmentation
    target (Eq. 2, Eq. 6).

    Note:
        - B: batch size
        - C: channels of the high-resolution branch
        - H, W: height and width of the high-resolution branch

    Args:
        in_channels (int): Channels of the high-resolution branch.
        mid_channels (int, optional): Channels of the 3x3 convolution.
            Defaults to ``in_channels``.
        conv_cfg (dict, optional): Convolution config. Defaults to ``None``.
        norm_cfg (dict, optional): Norm after the 3x3 convolution (the paper
            does not name one; HRNet puts BN+ReLU after every 3x3 conv, and a
            non-linearity keeps the two convolutions from collapsing into one
            linear 3x3 filter). Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): Activation after the 3x3 convolution.
            Defaults to ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialisation config. Defaults to
            ``None``.

    Example:
        >>> import torch
        >>> sgm = SegmentationGuidedModule(8)
        >>> y, logits = sgm(torch.rand(1, 8, 16, 12))
        >>> tuple(y.shape), tuple(logits.shape)
        ((1, 8, 16, 12), (1, 1, 16, 12))

    .. _`SG-HRNet`: https://doi.org/10.18280/ts.410522
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: Optional[int] = None,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 init_cfg: OptConfigType = None):
        super().__init__(init_cfg=init_cfg)
        mid_channels = mid_channels or in_channels
        self.conv = ConvModule(
            in_channels,
            mid_channels,
            kernel_size=3,
            padding=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.seg_conv = nn.Conv2d(mid_channels, 1, kernel_size=1)

    def forward(self,
                feats: Tensor,
                source: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Guide ``feats`` by the map computed from ``source``.

        Args:
            feats (Tensor): The features the map multiplies, (B, C, H, W).
            source (Tensor, optional): The features the map is computed
                from, (B, C, H, W). Defaults to ``None``: ``feats`` itself
                (self-gating).

        Returns:
            tuple[Tensor, Tensor]: the guided features ``feats * s``
            (B, C, H, W) (Eq. 4) and the logits of the map ``s``
            (B, 1, H, W), ``s = sigmoid(logits)``.
        """
        logits = self.seg_conv(self.conv(feats if source is None else source))
        return feats * torch.sigmoid(logits), logits


@MODELS.register_module()
class SGHRNet(HRNet):
    """HRNet with the Segmentation Guided Modules of `SG-HRNet`_ on its
    high-resolution branch (Sec. 3.3, Fig. 1).

    One SGM per stage 2, 3 and 4 multiplies its map into the high-resolution
    branch output of the stage's last HR module, before that module's
    multi-resolution fusion (Sec. 3.3: the maps "are dotted with the feature
    maps of the ... high-resolution branches. Finally, the high-resolution
    feature maps are downsampled ... and then fused"); a final SGM guides the
    fused stage-4 high-resolution output that feeds the heatmap layer. This
    gives the paper's N = 4 supervised maps (Eq. 6).

    Where a stage SGM computes its map from (``guidance``):

    - ``'previous_stage'`` (default; Sec. 3.3: the SGM "takes the feature
      maps generated from the high-resolution branches in the previous stage
      as input", its maps "are dotted with the feature maps of the second
      stage high-resolution branches"): from the stage's high-resolution
      input, i.e. the previous stage's fused high-resolution output (for
      stage 2, stage 1's output after HRNet's transition to the branch
      width); the map multiplies the current stage's branch output.
    - ``'self_gating'`` (Sec. 3.2 read alone: "x denotes the output ... of
      the high-resolution branch of the s-stage"): from the branch output it
      multiplies.

    The final SGM is self-gating in both modes (no later stage exists).

    The SGMs are submodules called in this class's own ``forward`` (HRNet's
    forward with the last HR module of each stage split into its branches,
    the SGM and its fusion). Every HRNet parameter keeps its name: HRNet
    checkpoints load (see :meth:`_load_from_state_dict`), and with every map
    equal to 1 the features equal :class:`HRNet`'s exactly.
    ``frozen_stages`` also freezes the SGMs of the frozen stages (the final
    SGM counts as stage 4).

    Note:
        - B: batch size
        - S: number of maps, 4 (stages 2, 3, 4 and the final SGM)
        - H, W: the high-resolution branch, a quarter of the input

    Args:
        extra (dict): HRNet stage settings, as for
            :class:`mmpose.models.backbones.HRNet`; ``extra['upsample']``
            sets the fusion upsampling (HRNet: nearest; Sec. 3.3: bilinear).
        sgm_cfg (dict, optional): Extra arguments of
            :class:`SegmentationGuidedModule` (``mid_channels``,
            ``norm_cfg``, ``act_cfg``). Defaults to ``None``.
        guidance (str): ``'previous_stage'`` or ``'self_gating'``, see
            above. Defaults to ``'previous_stage'``.
        with_seg_logits (bool): Put the maps' logits (B, S, H, W) in front
            of HRNet's features: ``(seg_logits, *features)``. Every MMPose
            head reads ``feats[-1]``, so a stock ``HeatmapHead`` still works;
            :class:`SGHeatmapHead` needs it for its loss. With ``False`` the
            output is exactly HRNet's tuple. Defaults to ``False``.
        **kwargs: Other arguments of :class:`HRNet` (``in_channels``,
            ``norm_cfg``, ``frozen_stages``, ``init_cfg``, ...).

    Example:
        >>> import torch
        >>> extra = dict(
        ...     stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
        ...                 num_blocks=(1, ), num_channels=(16, )),
        ...     stage2=dict(num_modules=1, num_branches=2, block='BASIC',
        ...                 num_blocks=(1, 1), num_channels=(8, 16)),
        ...     stage3=dict(num_modules=1, num_branches=3, block='BASIC',
        ...                 num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
        ...     stage4=dict(num_modules=1, num_branches=4, block='BASIC',
        ...                 num_blocks=(1, 1, 1, 1),
        ...                 num_channels=(8, 16, 32, 64)))
        >>> model = SGHRNet(extra, with_seg_logits=True).eval()
        >>> seg_logits, feat = model(torch.rand(1, 3, 64, 64))
        >>> tuple(seg_logits.shape), tuple(feat.shape)
        ((1, 4, 16, 16), (1, 8, 16, 16))

    .. _`SG-HRNet`: https://doi.org/10.18280/ts.410522
    """

    guided_stages = ('stage2', 'stage3', 'stage4')

    def __init__(self,
                 extra: ConfigType,
                 sgm_cfg: OptConfigType = None,
                 guidance: str = 'previous_stage',
                 with_seg_logits: bool = False,
                 **kwargs):
        if guidance not in GUIDANCE_MODES:
            raise ValueError(
                f'SGHRNet: guidance must be one of {GUIDANCE_MODES}, got '
                f'{guidance!r} (model.backbone.guidance)')
        super().__init__(extra, **kwargs)
        self.guidance = guidance
        self.with_seg_logits = with_seg_logits
        sgm_cfg = dict(sgm_cfg or {})
        sgm_cfg.setdefault('conv_cfg', self.conv_cfg)
        sgm_cfg.setdefault('norm_cfg', self.norm_cfg)
        widths = [
            self.extra[name]['num_channels'][0] *
            get_expansion(self.blocks_dict[self.extra[name]['block']])
            for name in self.guided_stages
        ]
        channels = widths[0]
        for name, c in zip(self.guided_stages[1:], widths[1:]):
            if c != channels:
                raise ValueError(
                    f'{type(self).__name__}: the high-resolution branch must '
                    f'keep its width across stages 2-4, got {channels} and '
                    f'{c} in extra[{name!r}]["num_channels"]')
        self.stage_sgms = nn.ModuleList(
            SegmentationGuidedModule(channels, **sgm_cfg)
            for _ in self.guided_stages)
        self.final_sgm = SegmentationGuidedModule(channels, **sgm_cfg)
        # HRNet.__init__ froze its stages before the SGMs existed
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        super()._freeze_stages()
        if 'final_sgm' not in self._modules:
            return  # called by HRNet.__init__ before the SGMs exist
        for stage, sgm in zip((2, 3, 4, 4), [*self.stage_sgms,
                                             self.final_sgm]):
            if stage <= self.frozen_stages:
                sgm.eval()
                for param in sgm.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'SGHRNet':
        # HRNet.train returns None; keep nn.Module's contract for chaining.
        super().train(mode)
        return self

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Load an HRNet checkpoint strictly apart from the SGMs.

        A checkpoint with HRNet's parameters and no SGM parameter (MMPose's
        HRNet or ImageNet HRNet weights) loads with the SGMs kept at their
        current values: their keys are filled in from the model (as
        ``BatchNorm`` fills in ``num_batches_tracked`` of old checkpoints)
        and listed in a warning, so ``strict=True`` then checks every HRNet
        parameter and nothing else. A checkpoint with some SGM parameters is
        loaded as it is (a missing SGM key is then an error under
        ``strict=True``).
        """
        sgm_prefixes = (prefix + 'stage_sgms.', prefix + 'final_sgm.')
        if prefix + 'conv1.weight' in state_dict and not any(
                k.startswith(sgm_prefixes) for k in state_dict):
            filled = []
            for name in ('stage_sgms', 'final_sgm'):
                for key, value in getattr(self, name).state_dict(
                        prefix=f'{prefix}{name}.', keep_vars=True).items():
                    state_dict[key] = value.detach()
                    filled.append(key)
            print_log(
                f'{type(self).__name__}: the checkpoint has HRNet\'s '
                'parameters and no Segmentation Guided Module; these '
                f'{len(filled)} SGM entries keep their initialisation: '
                + ', '.join(filled),
                logger='current',
                level=logging.WARNING)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _guided_stage(self, stage: nn.Sequential, x_list: List[Tensor],
                      sgm: SegmentationGuidedModule
                      ) -> Tuple[List[Tensor], Tensor]:
        """One HRNet stage with its SGM on the high-resolution branch of the
        last HR module, between the branches and the fusion (the fusion is
        ``HRModule.forward``'s)."""
        source = x_list[0]  # the previous stage's high-resolution output
        for module in list(stage)[:-1]:
            x_list = module(x_list)
        last = stage[-1]
        x_list = [branch(x) for branch, x in zip(last.branches, x_list)]
        x_list[0], logits = sgm(
            x_list[0], source if self.guidance == 'previous_stage' else None)
        if last.num_branches == 1:
            return x_list, logits
        fused = []
        for i in range(len(last.fuse_layers)):
            y = 0
            for j in range(last.num_branches):
                if i == j:
                    y += x_list[j]
                else:
                    y += last.fuse_layers[i][j](x_list[j])
            fused.append(last.relu(y))
        return fused, logits

    def forward_with_maps(self, x: Tensor) -> Tuple[Tuple[Tensor], Tensor]:
        """HRNet's features and the SGMs' map logits.

        Args:
            x (Tensor): Images, (B, 3, 4H, 4W).

        Returns:
            tuple: ``(features, seg_logits)``: exactly HRNet's feature tuple
            (one, or four with ``extra['stage4']['multiscale_output']``), the
            first multiplied by the final map; and the logits (B, S, H, W)
            of the maps of stage 2, stage 3, stage 4 and the final SGM.
        """
        # HRNet.forward (mmpose/models/backbones/hrnet.py), with
        # _guided_stage in place of each stage's nn.Sequential call
        x = self.relu(self.norm1(self.conv1(x)))
        x = self.relu(self.norm2(self.conv2(x)))
        y_list = [self.layer1(x)]
        logits = []
        for idx, name in enumerate(self.guided_stages):
            transition = getattr(self, f'transition{idx + 1}')
            x_list = [
                y_list[i] if t is None else t(y_list[-1])
                for i, t in enumerate(transition)
            ]
            y_list, stage_logits = self._guided_stage(
                getattr(self, name), x_list, self.stage_sgms[idx])
            logits.append(stage_logits)
        y_list[0], final_logits = self.final_sgm(y_list[0])
        logits.append(final_logits)
        return tuple(y_list), torch.cat(logits, dim=1)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward function.

        Args:
            x (Tensor): Images, (B, 3, 4H, 4W).

        Returns:
            tuple[Tensor]: HRNet's features (see :meth:`forward_with_maps`);
            with ``with_seg_logits``, ``(seg_logits, *features)`` with the
            maps' logits (B, S, H, W) first.
        """
        feats, seg_logits = self.forward_with_maps(x)
        return (seg_logits, *feats) if self.with_seg_logits else feats
