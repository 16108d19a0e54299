"""SG-HRNet backbone: HRNet with Segmentation Guided Modules.

Tang et al., "Segmentation Guided Attention Networks for Human Pose
Estimation", Traitement du Signal 41(5), 2024 (Sec. 3.2-3.3, Fig. 1-3).
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.models.backbones import HRNet
from mmpose.models.backbones.resnet import get_expansion
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType


class SegmentationGuidedModule(BaseModule):
    """Segmentation Guided Module (SGM), Sec. 3.2 and Fig. 2-3.

    A 3x3 convolution maps the high-resolution features ``x`` to features
    suited to segmentation, a 1x1 convolution reduces them to one channel and
    a sigmoid gives the keypoint-region map ``s`` in [0, 1]; the features are
    then re-weighted as ``y = x * s`` (Eq. 4). ``s`` is supervised with the
    keypoint segmentation target (Eq. 2, Eq. 6).

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
        init_cfg (dict, optional): Initialisation config.
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

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Return the guided features ``x * s`` (Eq. 4) and the logits of
        the map ``s``, shape (B, 1, H, W); ``s = sigmoid(logits)``."""
        logits = self.seg_conv(self.conv(x))
        return x * torch.sigmoid(logits), logits


class SGHRNetOutput(tuple):
    """HRNet's feature tuple with the SGMs' segmentation maps attached.

    To every stock MMPose neck and head this is the tuple ``HRNet`` returns;
    :class:`SGHeatmapHead` reads the maps from ``seg_logits``. (The
    ``NamedTuple`` of :class:`RFMHourglassNet` has a fixed number of fields,
    whereas HRNet returns 1 or 4 features depending on
    ``multiscale_output``.) Slicing or a neck returns a plain tuple, without
    the maps.

    Args:
        feats (Sequence[Tensor]): HRNet's features.
        seg_logits (Tensor): Logits of the N stacked maps, (B, N, H, W).
    """

    def __new__(cls, feats: Sequence[Tensor], seg_logits: Tensor):
        self = super().__new__(cls, feats)
        self.seg_logits = seg_logits
        return self

    def __getnewargs__(self):
        # copy / deepcopy / pickle rebuild through __new__
        return tuple(self), self.seg_logits

    @property
    def seg_maps(self) -> Tensor:
        """The maps ``s`` in [0, 1], (B, N, H, W)."""
        return torch.sigmoid(self.seg_logits)


@MODELS.register_module()
class SGHRNet(HRNet):
    """HRNet with Segmentation Guided Modules on the high-resolution branch
    (SG-HRNet, Sec. 3.3, Fig. 1).

    One SGM sits in the last HR module of stages 2, 3 and 4, between the
    high-resolution branch and the multi-resolution fusion, so the fused
    features are built from guided high-resolution features; a final SGM
    guides the stage-4 fused high-resolution output that feeds the heatmap
    layer. This gives the paper's N = 4 supervised maps (Eq. 6).

    HRNet itself is reused unchanged: the stage SGMs are attached as forward
    hooks of the high-resolution branch, so every HRNet parameter keeps its
    name and ImageNet/HRNet checkpoints load as they do into ``HRNet``.
    ``frozen_stages`` also freezes the SGMs of the frozen stages (the final
    SGM counts as stage 4).

    Args:
        extra (dict): HRNet stage settings, as for
            :class:`mmpose.models.backbones.HRNet`; ``extra['upsample']``
            sets the fusion upsampling (HRNet: nearest; Sec. 3.3: bilinear).
        sgm_cfg (dict, optional): Extra arguments of
            :class:`SegmentationGuidedModule` (``mid_channels``,
            ``norm_cfg``, ``act_cfg``). Defaults to ``None``.
        **kwargs: Other arguments of :class:`HRNet` (``in_channels``,
            ``norm_cfg``, ``frozen_stages``, ``init_cfg``, ...).

    Returns (forward):
        SGHRNetOutput: exactly HRNet's features (one, or four with
        ``extra['stage4']['multiscale_output']``), the first multiplied by
        the final map, with ``seg_logits`` (B, 4, H/4, W/4): the maps of
        stage 2, stage 3, stage 4 and the final SGM, before the sigmoid.
    """

    guided_stages = ('stage2', 'stage3', 'stage4')

    def __init__(self, extra: ConfigType, sgm_cfg: OptConfigType = None,
                 **kwargs):
        super().__init__(extra, **kwargs)
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

        # A bound method (not a closure) so that deep copies (EMA models)
        # call their own SGMs.
        self._stage_logits: List[Tensor] = []
        for name in self.guided_stages:
            getattr(self, name)[-1].branches[0].register_forward_hook(
                self._guide_high_res_branch)

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

    def _guide_high_res_branch(self, module: nn.Module, args,
                               output: Tensor) -> Tensor:
        # Hooks fire in stage order, so the maps collected so far index the
        # SGM of the current stage.
        guided, logits = self.stage_sgms[len(self._stage_logits)](output)
        self._stage_logits.append(logits)
        return guided

    def train(self, mode: bool = True) -> 'SGHRNet':
        # HRNet.train returns None; keep nn.Module's contract for chaining.
        super().train(mode)
        return self

    def forward(self, x: Tensor) -> SGHRNetOutput:
        self._stage_logits = []
        feats = list(super().forward(x))
        feats[0], final_logits = self.final_sgm(feats[0])
        stage_logits, self._stage_logits = self._stage_logits, []
        return SGHRNetOutput(
            feats, torch.cat([*stage_logits, final_logits], dim=1))
