"""PCK normalised by the torso size, the LSP / FLIC protocol."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpose.evaluation.functional import keypoint_pck_accuracy
from mmpose.registry import METRICS

# Joints (left_/right_ prefix removed) that the LSP/FLIC tables report as
# "Head": LSP's neck + head top, FLIC's eyes + nose.
HEAD_PARTS = ('head_top', 'head', 'neck', 'upper_neck', 'nose', 'eye', 'ear')
# Column order of the papers' tables.
GROUP_ORDER = ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle')

Joint = Union[int, str]


@METRICS.register_module()
class TorsoPCKAccuracy(BaseMetric):
    """PCK@thr normalised by the torso size of each ground-truth pose.

    A predicted joint is correct when its distance to the ground truth is
    below ``thr`` times the torso size ``||gt[a] - gt[b]||``, with (a, b) the
    torso joints of the dataset. The default, left shoulder to right hip, is
    the standard LSP and FLIC protocol ("torso height: ||left_shoulder -
    right hip||", after Sapp & Taskar, CVPR'13), used by the methods the
    papers compare with (SPCNet Table 6/7, SADI-Net Table 2, PCK@0.2). The
    names are resolved through the evaluated dataset's own
    ``dataset_meta['keypoint_name2id']`` (LSP: 9 and 2, FLIC: 0 and 7), unlike
    ``PCKAccuracy(norm_item='torso')`` whose fixed indices 4 and 5 are JHMDB's
    and point at LSP's left knee and left ankle.

    Joints with ``keypoints_visible == 0`` (unlabelled, COCO v = 0) are not
    scored; labelled occluded joints (v = 1) are, as in the benchmarks. An
    instance whose two torso joints are not both labelled, or coincide, has
    no torso size: it is excluded from all joints' scores and the number of
    excluded instances is logged (the LSP and FLIC test sets label both torso
    joints of every person, so the protocol never needs a fallback). The
    comparison is strict (``d < thr * torso``, MMPose's
    :func:`keypoint_pck_accuracy`); the MATLAB reference uses ``<=``, which
    only differs on exact ties.

    Results (in %, like :class:`MpiiPCKAccuracy`): ``'<Group> PCK'`` for each
    joint group, the mean of its joints' PCK (left and right paired as in the
    papers' tables: Head, Shoulder, Elbow, Wrist, Hip, Knee, Ankle), and
    ``'PCK'``, the fraction of correct joints over all scored (instance,
    joint) pairs of the joints in ``mean_over``.

    Args:
        thr (float): Threshold as a fraction of the torso size. Default: 0.2.
        torso_indices (tuple[int | str, int | str]): The two torso joints, as
            indices or as keypoint names of the dataset's metainfo.
            Default: ``('left_shoulder', 'right_hip')``.
        joint_groups (dict[str, list[int | str]], optional): Reported groups,
            name -> joints. Default ``None`` groups the metainfo's keypoint
            names by dropping ``left_``/``right_`` and puts head joints (neck,
            head top, eyes, ears, nose) into ``'Head'``.
        mean_over (Sequence[str], optional): Groups that make up ``'PCK'``;
            ``None`` (default) means all joints (LSP's "Total"). FLIC's tables
            report elbows and wrists: ``mean_over=('Elbow', 'Wrist')``.
        collect_device (str): Device for collecting results across ranks,
            ``'cpu'`` or ``'gpu'``. Default: ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Default: ``None``.
    """

    def __init__(self,
                 thr: float = 0.2,
                 torso_indices: Sequence[Joint] = ('left_shoulder',
                                                   'right_hip'),
                 joint_groups: Optional[Dict[str, Sequence[Joint]]] = None,
                 mean_over: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if len(torso_indices) != 2:
            raise ValueError('torso_indices must name two joints, got '
                             f'{torso_indices}')
        self.thr = thr
        self.torso_indices = tuple(torso_indices)
        self.joint_groups = joint_groups
        self.mean_over = None if mean_over is None else tuple(mean_over)

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        for data_sample in data_samples:
            gt = data_sample['gt_instances']
            mask = np.asarray(gt['keypoints_visible']).astype(bool)
            if mask.ndim == 3:
                mask = mask[:, :, 0]
            self.results.append(
                dict(
                    pred_coords=np.asarray(
                        data_sample['pred_instances']['keypoints'])[..., :2],
                    gt_coords=np.asarray(gt['keypoints'])[..., :2],
                    mask=mask.reshape(len(gt['keypoints']), -1)))

    def _joint_id(self, joint: Joint, num_keypoints: int) -> int:
        if isinstance(joint, str):
            name2id = (self.dataset_meta or {}).get('keypoint_name2id')
            if not name2id:
                raise ValueError(
                    f'{self.__class__.__name__}: joint "{joint}" is given by '
                    'name but the metric has no dataset_meta with '
                    'keypoint_name2id; pass indices instead')
            if joint not in name2id:
                raise KeyError(
                    f'{self.__class__.__name__}: joint "{joint}" is not a '
                    f'keypoint of dataset '
                    f'"{self.dataset_meta.get("dataset_name")}" '
                    f'(has {list(name2id)})')
            return name2id[joint]
        if not 0 <= int(joint) < num_keypoints:
            raise IndexError(f'{self.__class__.__name__}: joint index {joint} '
                             f'is out of range for {num_keypoints} keypoints')
        return int(joint)

    def _groups(self, num_keypoints: int) -> Dict[str, List[int]]:
        if self.joint_groups is not None:
            return OrderedDict(
                (name, [self._joint_id(j, num_keypoints) for j in joints])
                for name, joints in self.joint_groups.items())
        id2name = (self.dataset_meta or {}).get('keypoint_id2name')
        if not id2name:
            return OrderedDict()
        groups: Dict[str, List[int]] = {}
        for k in range(num_keypoints):
            part = id2name[k]
            for side in ('left_', 'right_'):
                if part.startswith(side):
                    part = part[len(side):]
            name = 'Head' if part in HEAD_PARTS else part.replace(
                '_', ' ').title()
            groups.setdefault(name, []).append(k)
        order = [g for g in GROUP_ORDER if g in groups]
        order += [g for g in groups if g not in order]
        return OrderedDict((g, groups[g]) for g in order)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        pred = np.concatenate([r['pred_coords'] for r in results])
        gt = np.concatenate([r['gt_coords'] for r in results])
        mask = np.concatenate([r['mask'] for r in results])
        num_keypoints = gt.shape[1]

        a, b = (self._joint_id(j, num_keypoints) for j in self.torso_indices)
        torso = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
        has_torso = mask[:, a] & mask[:, b] & (torso > 0)
        if not has_torso.any():
            raise ValueError(
                f'{self.__class__.__name__}: none of the {len(gt)} instances '
                f'has both torso joints {self.torso_indices} labelled')
        if not has_torso.all():
            logger.warning(
                f'{self.__class__.__name__}: {(~has_torso).sum()} of '
                f'{len(gt)} instances lack a labelled torso '
                f'{self.torso_indices} and are not scored')
        # keypoint_pck_accuracy drops instances whose norm factor is 0.
        norm = np.repeat(np.where(has_torso, torso, 0.)[:, None], 2, axis=1)
        logger.info(f'Evaluating {self.__class__.__name__} (PCK@{self.thr}, '
                    f'torso = {self.torso_indices})...')
        acc, _, _ = keypoint_pck_accuracy(pred, gt, mask, self.thr, norm)
        counts = (mask & has_torso[:, None]).sum(axis=0)
        scored = counts > 0

        metrics: Dict[str, float] = OrderedDict()
        groups = self._groups(num_keypoints)
        for name, ids in groups.items():
            ids = [k for k in ids if scored[k]]
            if ids:
                metrics[f'{name} PCK'] = 100. * float(acc[ids].mean())

        if self.mean_over is None:
            mean_ids = np.arange(num_keypoints)
        else:
            unknown = [g for g in self.mean_over if g not in groups]
            if unknown:
                raise KeyError(f'{self.__class__.__name__}: mean_over groups '
                               f'{unknown} are not among {list(groups)}')
            mean_ids = np.array(
                sorted({k
                        for g in self.mean_over
                        for k in groups[g]}))
        mean_ids = mean_ids[scored[mean_ids]]
        if not len(mean_ids):
            raise ValueError(f'{self.__class__.__name__}: no labelled joint '
                             f'of {self.mean_over} to average')
        metrics['PCK'] = 100. * float(
            (acc[mean_ids] * counts[mean_ids]).sum() /
            counts[mean_ids].sum())
        return metrics
