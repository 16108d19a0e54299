# Copyright (c) mmpose_attn contributors. All rights reserved.
import logging
import os.path as osp
from typing import Sequence, Tuple, Union

from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.logging import print_log
from mmengine.model import Sequential
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor

from mmpose.models.heads.hybrid_heads import dekr_head
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, InstanceList, OptConfigType
from ..utils.deform_conv import DeformConv2d


class AdaptiveActivationBlock(dekr_head.AdaptiveActivationBlock):
    """DEKR's adaptive activation block (the adaptive convolution ``AW`` of
    `SAMKR`_, Sec. III-B, Eq. 7-8) whose deformable convolution is
    :class:`DeformConv2d`: the same parameters as MMPose's block, runnable on
    devices mmcv's ops were not compiled for.

    Note:
        - batch size: B
        - keypoint branches (``groups``): k
        - feature map size: [H, W]

        Input: the branches' features F^i side by side, (B, in_channels, H,
        W). Eq. 7: a grouped 3x3 conv predicts, per branch and pixel, an
        affine transform minus the identity, [M - I | t] (2x3); times the
        regular 3x3 grid G_t in homogeneous coordinates it gives the nine
        taps' offsets M G_t + t - G_t, (B, 18k, H, W) (``[y0, x0, y1, x1,
        ...]`` per branch). Eq. 8: the grouped deformable conv reads F^i at
        those taps, then BN, the residual and ReLU. Output: the activated
        features f^i, (B, out_channels, H, W).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        groups (int): Groups (keypoint branches). Defaults to 1.
        deform_conv_backend (str): ``backend`` of :class:`DeformConv2d`.
            Defaults to ``'auto'``.
        **kwargs: ``norm_cfg``, ``act_cfg``, ``init_cfg`` of MMPose's block.

    .. _`SAMKR`: https://doi.org/10.1109/IJCNN55064.2022.9891995
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 groups: int = 1,
                 deform_conv_backend: str = 'auto',
                 **kwargs):
        super().__init__(in_channels, out_channels, groups=groups, **kwargs)
        self.adapt_conv = DeformConv2d(
            in_channels,
            out_channels,
            kernel_size=3,
            padding=1,
            bias=False,
            groups=groups,
            deform_groups=groups,
            backend=deform_conv_backend)


@MODELS.register_module()
class SAMKRHead(dekr_head.DEKRHead):
    """Subspace Attention Module Keypoint Regression head of `SAMKR`_
    (`SAMKR: Bottom-up Keypoint Regression Pose Estimation Method Based On
    Subspace Attention Module`, Chen et al., IJCNN 2022).

    MMPose's :class:`DEKRHead` (heatmap + center-heatmap branch, losses,
    flip test, decoding, rescoring are all DEKR's) whose displacement branch
    is, Sec. III-A/B, Fig. 1-2:

    1. a 1x1 conv to ``k*c`` channels, chunked into ``k`` keypoint branches
       (Eq. 1);
    2. per-keypoint adaptive (deformable) convolution, DEKR's
       adaptive activation block with ``groups=k`` (Eq. 2, 7-8), on
       :class:`DeformConv2d` (mmcv's kernel where it was compiled for the
       device, torchvision's elsewhere);
    3. :class:`SubspaceAttention`, ``g`` subspaces of ``s = c/g`` channels per
       branch (Eq. 3-5, 9);
    4. a grouped 1x1 conv to 2 offsets per keypoint (Eq. 6).

    With ``attention_cfg=None``, ``num_displacement_filters_per_keypoint=15``
    and ``num_adaptive_blocks=2`` it is :class:`DEKRHead` (same state dict;
    bit-identical outputs on mmcv's kernel).

    Note:
        - batch size: B
        - keypoint number: K (``k`` in the paper)
        - channels per keypoint branch: c; subspaces per branch: g; channels
          per subspace: s = c / g (``m = k*c``, Sec. III-C)
        - feature map size: [H, W]

        :meth:`forward` (DEKR's) takes the backbone features (``feats``, as
        selected by ``input_transform``: (B, in_channels, H, W)) and returns

        - heatmaps: (B, K + 1, H, W), the keypoint heatmaps and the center
          heatmap last (Sec. III-A "Heatmap");
        - displacements: (B, 2K, H, W), an (x, y) offset per keypoint and
          pixel (Eq. 6).

        Inside the displacement branch: F (B, K*c, H, W) after the 1x1 conv
        (Eq. 1), f (B, K*c, H, W) after the adaptive convolution (Eq. 2,
        7-8), O (B, K*c, H, W) after the subspace attention (Eq. 3-5, 9),
        then the grouped 1x1 conv to (B, 2K, H, W) (Eq. 6).

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
            ``displacement_loss``, ``decoder``, ``init_cfg``,
            ``rescore_cfg``: rescoring runs only with weights, see
            :meth:`_setup_rescore_net`).

    .. _`SAMKR`: https://doi.org/10.1109/IJCNN55064.2022.9891995
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
                 deform_conv_backend: str = 'auto',
                 **kwargs):
        if num_adaptive_blocks < 0:
            raise ValueError(f'{self.__class__.__name__}: num_adaptive_blocks '
                             f'must be >= 0, got {num_adaptive_blocks}')
        # Read by ``_make_displacement_conv_layers`` inside DEKRHead.__init__.
        self.num_subspaces = num_subspaces
        self.num_adaptive_blocks = num_adaptive_blocks
        self.disentangled = disentangled
        self.attention_cfg = attention_cfg
        self.deform_conv_backend = deform_conv_backend
        super().__init__(
            in_channels=in_channels,
            num_keypoints=num_keypoints,
            num_heatmap_filters=num_heatmap_filters,
            num_displacement_filters_per_keypoint=(
                num_displacement_filters_per_keypoint),
            **kwargs)
        self._rescore_weights = None
        self.rescore_on = self.rescore_net is not None
        if self.rescore_on:
            self._setup_rescore_net(kwargs['rescore_cfg'].get('init_cfg'))

    def _setup_rescore_net(self, init_cfg: OptConfigType) -> None:
        """Rescoring needs trained weights, given by ``rescore_cfg.init_cfg``
        (a ``Pretrained`` checkpoint):

        - none: rescoring is off (``rescore_on = False``; the net stays, so
          parameter counts and state dicts are DEKR's), said in the log;
        - a URL (MMPose's DEKR nets): loaded by ``init_weights`` and saved
          with the model, as in :class:`DEKRHead`;
        - a local file (``tools/train_rescore_net.py``'s output): loaded now,
          and it also replaces the rescore weights of any model checkpoint
          loaded later, so the config names the net its test uses.
        """
        checkpoint = None
        if init_cfg and init_cfg.get('type') == 'Pretrained':
            checkpoint = init_cfg.get('checkpoint')
        if not checkpoint:
            print_log(
                f'{self.__class__.__name__}: rescore_cfg gives no weights '
                '(init_cfg.checkpoint): rescoring is off. Train a rescore net '
                'for this model with `python -m '
                'mmpose_attn.tools.train_rescore_net CONFIG CHECKPOINT`.',
                logger='current',
                level=logging.WARNING)
            self.rescore_on = False
            return
        if '://' in checkpoint:
            return
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'{self.__class__.__name__}: rescore net weights {checkpoint} '
                'do not exist; write them with `python -m '
                'mmpose_attn.tools.train_rescore_net CONFIG CHECKPOINT` '
                '(CONFIG: the model without them, e.g. the base config)')
        weights = CheckpointLoader.load_checkpoint(
            checkpoint, map_location='cpu')
        self.rescore_net.load_state_dict(weights.get('state_dict', weights))
        self._rescore_weights = {
            k: v.clone()
            for k, v in self.rescore_net.state_dict().items()
        }

    def decode(self,
               heatmaps: Tuple[Tensor],
               displacements: Tuple[Tensor],
               test_cfg: ConfigType = {},
               metainfo: dict = {}) -> InstanceList:
        """:meth:`DEKRHead.decode`, skipping the rescore net when rescoring
        is off (DEKR's decode rescores whenever ``metainfo`` has the
        skeleton, which nothing else in it reads)."""
        if not self.rescore_on:
            metainfo = {
                k: v
                for k, v in metainfo.items() if k != 'skeleton_links'
            }
        return super().decode(heatmaps, displacements, test_cfg, metainfo)

    def _load_state_dict_pre_hook(self, state_dict, prefix, local_meta, *args,
                                  **kwargs):
        """DEKR's conversion of old checkpoints, then the rescore weights of
        a local rescore checkpoint in place of the loaded model's."""
        super()._load_state_dict_pre_hook(state_dict, prefix, local_meta,
                                          *args, **kwargs)
        for k, v in (self._rescore_weights or {}).items():
            state_dict[f'{prefix}rescore_net.{k}'] = v

    def _make_displacement_conv_layers(self, in_channels: int,
                                       out_channels: int, num_filters: int,
                                       groups: int) -> Sequential:
        """Displacement branch of Fig. 1: 1x1 conv (Eq. 1), adaptive
        convolution (Eq. 2, 7-8), subspace attention (Eq. 3-5, 9), grouped
        1x1 conv to offsets (Eq. 6); (B, in_channels, H, W) ->
        (B, out_channels, H, W) through ``num_filters`` channels."""
        groups = groups if self.disentangled else 1
        layers = [
            ConvModule(
                in_channels=in_channels,
                out_channels=num_filters,
                kernel_size=1,
                norm_cfg=dict(type='BN'))
        ]
        layers += [
            AdaptiveActivationBlock(
                num_filters,
                num_filters,
                groups=groups,
                deform_conv_backend=self.deform_conv_backend)
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
