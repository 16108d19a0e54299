# Copyright (c) mmpose_attn contributors. All rights reserved.
from typing import Sequence, Union

from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.model import Sequential

from mmpose.models.heads.hybrid_heads.dekr_head import (
    AdaptiveActivationBlock, DEKRHead)
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType


@MODELS.register_module()
class SAMKRHead(DEKRHead):
    """Subspace Attention Module Keypoint Regression head of `SAMKR: Bottom-up
    Keypoint Regression Pose Estimation Method Based On Subspace Attention
    Module` (Chen et al., IJCNN 2022).

    MMPose's :class:`DEKRHead` (heatmap + center-heatmap branch, losses,
    flip test, decoding, rescoring are all DEKR's) whose displacement branch
    is, Sec. III-A/B, Fig. 1-2:

    1. a 1x1 conv to ``k*c`` channels, chunked into ``k`` keypoint branches
       (Eq. 1);
    2. per-keypoint adaptive (deformable) convolution, DEKR's
       :class:`AdaptiveActivationBlock` with ``groups=k`` (Eq. 2, 7-8);
    3. :class:`SubspaceAttention`, ``g`` subspaces of ``s = c/g`` channels per
       branch (Eq. 3-5, 9);
    4. a grouped 1x1 conv to 2 offsets per keypoint (Eq. 6).

    With ``attention_cfg=None``, ``num_displacement_filters_per_keypoint=15``
    and ``num_adaptive_blocks=2`` it is exactly :class:`DEKRHead`.

    Args:
        in_channels (int | Sequence[int]): Input channels (``480`` for the
            concatenated HRNet-W32 features).
        num_keypoints (int): Keypoint number ``k``.
        num_heatmap_filters (int): Filters of the heatmap branch, as DEKR.
            Defaults to 32.
        num_displacement_filters_per_keypoint (int): Channels ``c`` per
            keypoint branch; the branch input has ``m = k*c`` channels (272
            for COCO). Defaults to 16 (the paper's 8_SAMKR_16, Table 2).
        num_subspaces (int): Subspaces ``g`` per branch. Defaults to 8.
        num_adaptive_blocks (int): Adaptive activation blocks before the
            attention. The paper applies adaptive convolution once (Eq. 2);
            DEKR stacks two. Defaults to 1.
        disentangled (bool): ``True``: ``k`` independent keypoint branches
            (grouped convs). ``False``: one branch of ``m`` channels, the
            ``c=m`` row of Table 1. Defaults to True.
        attention_cfg (dict, optional): Config of the subspace attention; its
            ``channels``, ``num_subspaces`` and ``num_branches`` are filled in
            here. ``None`` drops the attention. Defaults to
            ``dict(type='SubspaceAttention')``.
        **kwargs: :class:`DEKRHead` arguments (``heatmap_loss``,
            ``displacement_loss``, ``decoder``, ``rescore_cfg``,
            ``init_cfg``).
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 num_keypoints: int,
                 num_heatmap_filters: int = 32,
                 num_displacement_filters_per_keypoint: int = 16,
                 num_subspaces: int = 8,
                 num_adaptive_blocks: int = 1,
                 disentangled: bool = True,
                 attention_cfg: OptConfigType = dict(
                     type='SubspaceAttention'),
                 **kwargs):
        if num_adaptive_blocks < 0:
            raise ValueError(f'{self.__class__.__name__}: num_adaptive_blocks '
                             f'must be >= 0, got {num_adaptive_blocks}')
        # Read by ``_make_displacement_conv_layers`` inside DEKRHead.__init__.
        self.num_subspaces = num_subspaces
        self.num_adaptive_blocks = num_adaptive_blocks
        self.disentangled = disentangled
        self.attention_cfg = attention_cfg
        super().__init__(
            in_channels=in_channels,
            num_keypoints=num_keypoints,
            num_heatmap_filters=num_heatmap_filters,
            num_displacement_filters_per_keypoint=(
                num_displacement_filters_per_keypoint),
            **kwargs)

    def _make_displacement_conv_layers(self, in_channels: int,
                                       out_channels: int, num_filters: int,
                                       groups: int) -> Sequential:
        """Displacement branch of Fig. 1: 1x1 conv, adaptive convolution,
        subspace attention, grouped 1x1 conv to offsets."""
        groups = groups if self.disentangled else 1
        layers = [
            ConvModule(
                in_channels=in_channels,
                out_channels=num_filters,
                kernel_size=1,
                norm_cfg=dict(type='BN'))
        ]
        layers += [
            AdaptiveActivationBlock(num_filters, num_filters, groups=groups)
            for _ in range(self.num_adaptive_blocks)
        ]
        if self.attention_cfg is not None:
            attention_cfg = dict(
                self.attention_cfg,
                channels=num_filters,
                num_subspaces=self.num_subspaces,
                num_branches=groups)
            layers.append(MODELS.build(attention_cfg))
        layers.append(
            build_conv_layer(
                dict(type='Conv2d'),
                in_channels=num_filters,
                out_channels=out_channels,
                kernel_size=1,
                groups=groups))
        return Sequential(*layers)

    @property
    def subspace_attention(self):
        """The :class:`SubspaceAttention` of the displacement branch (None
        without attention); visualization hooks it."""
        for layer in self.displacement_conv_layers:
            if hasattr(layer, 'attention_maps'):
                return layer
        return None
