"""SG-HRNet backbone: HRNet with Segmentation Guided Modules.

Tang et al., "Segmentation Guided Attention Networks for Human Pose
Estimation", Traitement du Signal 41(5), 2024 (Sec. 3.2-3.3, Fig. 1-3).
"""
from typing import List, Optional, Tuple

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
        """Return the guided features ``x * s`` (Eq. 4) and the map ``s``
        of shape (B, 1, H, W)."""
        s = torch.sigmoid(self.seg_conv(self.conv(x)))
        return x * s, s


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

    Args:
        extra (dict): HRNet stage settings, as for
            :class:`mmpose.models.backbones.HRNet`.
        sgm_cfg (dict, optional): Extra arguments of
            :class:`SegmentationGuidedModule` (``mid_channels``,
            ``norm_cfg``, ``act_cfg``). Defaults to ``None``.
        **kwargs: Other arguments of :class:`HRNet` (``in_channels``,
            ``norm_cfg``, ``init_cfg``, ...).

    Returns (forward):
        tuple[Tensor]: HRNet's features (the first one multiplied by the
        final map) followed by the stacked maps of shape (B, 4, H/4, W/4),
        in order stage 2, stage 3, stage 4, final.
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

        # A bound method (not a closure) so that deep copies (EMA models)
        # call their own SGMs.
        self._stage_maps: List[Tensor] = []
        for name in self.guided_stages:
            getattr(self, name)[-1].branches[0].register_forward_hook(
                self._guide_high_res_branch)

    def _guide_high_res_branch(self, module: nn.Module, args,
                               output: Tensor) -> Tensor:
        # Hooks fire in stage order, so the maps collected so far index the
        # SGM of the current stage.
        guided, seg_map = self.stage_sgms[len(self._stage_maps)](output)
        self._stage_maps.append(seg_map)
        return guided

    def train(self, mode: bool = True) -> 'SGHRNet':
        # HRNet.train returns None; keep nn.Module's contract for chaining.
        super().train(mode)
        return self

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        self._stage_maps = []
        feats = list(super().forward(x))
        feats[0], final_map = self.final_sgm(feats[0])
        stage_maps, self._stage_maps = self._stage_maps, []
        seg_maps = torch.cat([*stage_maps, final_map], dim=1)
        return (*feats, seg_maps)
