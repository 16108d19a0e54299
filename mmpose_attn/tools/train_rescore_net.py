"""Train DEKR's keypoint rescore net for a trained bottom-up model.

DEKR ranks its poses by ``root score x predicted OKS``, the OKS coming from a
small MLP on the pose (limb vectors and lengths normalised by the torso, and
the keypoint scores; MMPose's ``RescoreNet``). DEKR's repository trains that
net on the model's own predictions on the training set (``valid.py`` with
``RESCORE.GET_DATA`` then ``train_scorenet.py``); this tool does the same
for a model of this project (SAMKR, or DEKR itself)::

    python -m mmpose_attn.tools.train_rescore_net CONFIG CHECKPOINT \\
        [--work-dir DIR] [--epochs 20] [--lr 1e-3] [--batch-size 1024] \\
        [--max-images N] [--device cuda] [--cfg-options k=v ...]

1. **Collect**: the model (rescoring off) predicts every training image with
   the config's *test* pipeline and ``test_cfg`` (flip test as in testing).
   Every decoded candidate pose (before NMS, as the head rescores them) is
   kept with its keypoint scores and, as target, its best OKS with the
   image's annotated persons (COCO's OKS: the dataset's sigmas, the person's
   area, or for ``use_area=False`` metrics such as CrowdPose's, 0.53 x the
   box area; labelled keypoints only).
2. **Train**: ``RescoreNet`` regresses the OKS with an MSE loss, Adam,
   DEKR's settings (20 epochs, lr 1e-3, batch 1024).

Writes ``rescore_data.npz`` (keypoints, keypoint_scores, oks) and
``rescore_net.pth`` to ``--work-dir`` (default ``work_dirs/<config name>``).
The ``*_rescore-own.py`` configs of ``configs/samkr`` load that file
(``model.head.rescore_cfg.init_cfg.checkpoint``).
"""
import argparse
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from torch import nn

from mmpose.models.heads.hybrid_heads.dekr_head import RescoreNet
from mmpose.registry import DATASETS, MODELS

import mmpose_attn  # noqa: F401
from mmpose_attn.engine.loading import load_checkpoint
from mmpose_attn.tools._output import add_force_argument, check_output_path

# the box-area proxy of CrowdPose's evaluation (xtcocotools, use_area=False)
CROWD_AREA_FACTOR = 0.53


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add('config', help='bottom-up model config (DEKRHead or a subclass, '
        'with model.head.rescore_cfg)')
    add('checkpoint', help='trained model checkpoint')
    add('--work-dir', help='output folder (default: work_dirs/<config>)')
    add('--epochs', type=int, default=20)
    add('--lr', type=float, default=1e-3)
    add('--batch-size', type=int, default=1024)
    add('--max-images', type=int,
        help='collect from the first N training images only')
    add('--device', default='cpu', help='e.g. cpu, cuda:0')
    add('--seed', type=int, default=0)
    add('--cfg-options', nargs='+', action=DictAction,
        help='override config settings, as in tools/train.py')
    add_force_argument(parser)
    return parser.parse_args(argv)


def keypoint_oks(pred: np.ndarray, gt: np.ndarray, gt_visible: np.ndarray,
                 gt_area: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """COCO's object keypoint similarity of every prediction with every
    annotated person (``COCOeval.computeOks`` for persons with labelled
    keypoints).

    Args:
        pred (np.ndarray): Predicted keypoints, (D, K, 2).
        gt (np.ndarray): Annotated keypoints, (G, K, 2).
        gt_visible (np.ndarray): 1 where a keypoint is labelled, (G, K).
        gt_area (np.ndarray): Person areas, (G, ).
        sigmas (np.ndarray): Per-keypoint OKS sigmas, (K, ).

    Returns:
        np.ndarray: OKS in shape (D, G).
    """
    sq_dist = ((pred[:, None] - gt[None])**2).sum(-1)  # (D, G, K)
    e = sq_dist / (2 * sigmas)**2 / (gt_area[None, :, None] + np.spacing(1))
    similarity = np.exp(-e / 2) * gt_visible[None]
    return similarity.sum(-1) / np.maximum(gt_visible.sum(-1), 1)[None]


class _CandidateRecorder(nn.Module):
    """Takes the place of the head's rescore net: records the decoded
    candidates (input-space keypoints and keypoint scores) and leaves their
    scores unchanged."""

    def __init__(self):
        super().__init__()
        self.records: List[Tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, keypoints, keypoint_scores, skeleton):
        self.records.append(
            (keypoints.detach().cpu(), keypoint_scores.detach().cpu()))
        return keypoints.new_ones(len(keypoints))


def _training_set(cfg: Config, max_images: Optional[int]):
    """The training annotations with the test pipeline (no augmentation)."""
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    dataset_cfg.test_mode = True
    if max_images:
        dataset_cfg.indices = max_images
    return DATASETS.build(dataset_cfg)


def predict_candidates(model: nn.Module,
                       data: dict) -> Tuple[np.ndarray, np.ndarray]:
    """Every candidate pose the head decodes for one image, before NMS and
    unrescored, as its rescore net sees them.

    Args:
        model (nn.Module): A bottom-up estimator whose head is a
            :class:`DEKRHead` (or subclass), in eval mode.
        data (dict): One item of a dataset with a test pipeline.

    Returns:
        tuple: ``keypoints`` (N, K, 2) in image pixels and
        ``keypoint_scores`` (N, K).
    """
    if 'skeleton_links' not in data['data_samples'].metainfo:
        raise ValueError(
            'the test pipeline must pack `skeleton_links` (in '
            "PackPoseInputs' meta_keys): the head rescores with it")
    head = model.head
    recorder = _CandidateRecorder()
    saved = head.rescore_net, getattr(head, 'rescore_on', None)
    head.rescore_net = recorder
    if saved[1] is not None:  # SAMKRHead: rescoring may be off
        head.rescore_on = True
    try:
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([data]))[0]
    finally:
        head.rescore_net = saved[0]
        if saved[1] is not None:
            head.rescore_on = saved[1]
    if not recorder.records:  # nothing decoded
        k = head.num_keypoints
        return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
    keypoints, scores = recorder.records[0]
    # input space -> image pixels, as the estimator maps its predictions
    candidates = InstanceData(
        keypoints=keypoints.numpy(), keypoint_scores=scores.numpy())
    model.add_pred_to_datasample([candidates], None, [copy.deepcopy(sample)])
    return candidates.keypoints.astype(np.float32), scores.numpy()


def best_oks(keypoints: np.ndarray,
             data_info: dict,
             sigmas: np.ndarray,
             use_area: bool = True) -> np.ndarray:
    """The best OKS of each pose with the image's annotated persons (those
    with labelled keypoints, not crowd regions); 0 without any.

    Args:
        keypoints (np.ndarray): Poses in image pixels, (N, K, 2).
        data_info (dict): The image's bottom-up data info (``keypoints``,
            ``keypoints_visible``, ``num_keypoints``, ``area``, ``bbox`` in
            xyxy, ``iscrowd``).
        sigmas (np.ndarray): The dataset's OKS sigmas, (K, ).
        use_area (bool): Annotated areas as the OKS scale; else 0.53 x the
            box area (CrowdPose's metric). Defaults to True.

    Returns:
        np.ndarray: Shape (N, ).
    """
    keep = (np.asarray(data_info['num_keypoints']) > 0) & \
        ~np.asarray(data_info.get('iscrowd', 0), bool)
    if not keep.any() or not len(keypoints):
        return np.zeros(len(keypoints))
    if use_area:
        area = np.asarray(data_info['area'], np.float64).reshape(-1)
    else:
        bbox = np.asarray(data_info['bbox'], np.float64)
        area = CROWD_AREA_FACTOR * (bbox[:, 2:] - bbox[:, :2]).prod(-1)
    oks = keypoint_oks(
        keypoints,
        np.asarray(data_info['keypoints'], np.float64)[keep],
        np.asarray(data_info['keypoints_visible'], np.float64)[keep],
        area[keep], sigmas)
    return oks.max(axis=1)


def collect_rescore_data(model: nn.Module,
                         dataset,
                         use_area: bool = True,
                         log_interval: int = 500) -> Dict[str, np.ndarray]:
    """:func:`predict_candidates` and :func:`best_oks` on every image of
    ``dataset`` (a bottom-up dataset with a test pipeline).

    Returns:
        dict: ``keypoints`` (N, K, 2) in image pixels, ``keypoint_scores``
        (N, K), ``oks`` (N, ).
    """
    logger = MMLogger.get_current_instance()
    sigmas = np.asarray(dataset.metainfo['sigmas'], np.float64)
    k = model.head.num_keypoints
    keypoints, scores, oks = [np.zeros((0, k, 2), np.float32)], \
        [np.zeros((0, k), np.float32)], [np.zeros((0, ), np.float32)]
    for idx in range(len(dataset)):
        kpts, kpt_scores = predict_candidates(model, dataset[idx])
        keypoints.append(kpts)
        scores.append(kpt_scores)
        oks.append(
            best_oks(kpts, dataset.get_data_info(idx), sigmas,
                     use_area).astype(np.float32))
        if log_interval and (idx + 1) % log_interval == 0:
            logger.info(f'collected {sum(map(len, oks))} poses from '
                        f'{idx + 1}/{len(dataset)} images')
    return dict(
        keypoints=np.concatenate(keypoints),
        keypoint_scores=np.concatenate(scores),
        oks=np.concatenate(oks))


def train_rescore_net(data: Dict[str, np.ndarray],
                      skeleton: Sequence[Sequence[int]],
                      norm_indexes: Sequence[int],
                      epochs: int = 20,
                      lr: float = 1e-3,
                      batch_size: int = 1024,
                      seed: int = 0) -> Tuple[RescoreNet, List[float]]:
    """Fit MMPose's :class:`RescoreNet` to the collected OKS targets (MSE,
    Adam, shuffled mini-batches; the last, smaller batch is kept).

    Args:
        data (dict): From :func:`collect_rescore_data`.
        skeleton (Sequence): The dataset's ``skeleton_links``.
        norm_indexes (Sequence[int]): The two torso links (``rescore_cfg``).
        epochs, lr, batch_size (int, float, int): DEKR's 20, 1e-3, 1024.
        seed (int): Seed of the initialisation and shuffling.

    Returns:
        tuple: The trained net (eval mode) and the mean loss of each epoch.
    """
    num_samples = len(data['oks'])
    if num_samples == 0:
        raise ValueError('no predicted poses were collected: nothing to '
                         'train the rescore net on')
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    in_channels = 3 * len(skeleton) + data['keypoint_scores'].shape[1]
    net = RescoreNet(in_channels, tuple(norm_indexes))
    keypoints = torch.from_numpy(data['keypoints'])
    scores = torch.from_numpy(data['keypoint_scores'])
    target = torch.from_numpy(data['oks']).float()

    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    losses = []
    for _ in range(epochs):
        order = torch.randperm(num_samples, generator=generator)
        total = 0.
        for batch in order.split(batch_size):
            pred = net(keypoints[batch], scores[batch], skeleton)
            loss = nn.functional.mse_loss(pred, target[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / num_samples)
    return net.eval(), losses


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    work_dir = args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    data_file = check_output_path(
        osp.join(work_dir, 'rescore_data.npz'), args.force)
    out = str(check_output_path(
        osp.join(work_dir, 'rescore_net.pth'), args.force))
    logger = MMLogger.get_instance(
        'train_rescore_net', log_file=osp.join(work_dir, 'rescore.log'))

    rescore_cfg = cfg.model.head.get('rescore_cfg')
    if not rescore_cfg or 'norm_indexes' not in rescore_cfg:
        raise ValueError(f'{args.config}: model.head.rescore_cfg with '
                         '`norm_indexes` (the torso links) is required')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint {args.checkpoint} does not exist')
    # the net is replaced while collecting: do not load (or download) one
    cfg.model.head.rescore_cfg.init_cfg = None
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()

    dataset = _training_set(cfg, args.max_images)
    model.dataset_meta = dataset.metainfo
    use_area = cfg.get('test_evaluator', {}).get('use_area', True)
    data = collect_rescore_data(model, dataset, use_area=use_area)
    np.savez(data_file, **data)
    logger.info(f'{len(data["oks"])} poses from {len(dataset)} images, mean '
                f'OKS {data["oks"].mean() if len(data["oks"]) else 0:.3f}')

    skeleton = dataset.metainfo['skeleton_links']
    net, losses = train_rescore_net(data, skeleton,
                                    rescore_cfg['norm_indexes'], args.epochs,
                                    args.lr, args.batch_size, args.seed)
    baseline = float(np.var(data['oks']))
    logger.info(f'rescore net MSE per epoch: '
                f'{", ".join(f"{x:.4f}" for x in losses)} (predicting the '
                f'mean OKS: {baseline:.4f})')
    meta = dict(config=args.config, checkpoint=args.checkpoint,
                num_poses=len(data['oks']), epoch_losses=losses,
                norm_indexes=list(rescore_cfg['norm_indexes']))
    torch.save(dict(state_dict=net.state_dict(), meta=meta), out)
    logger.info(f'saved the rescore net to {out}; use it with '
                f"model.head.rescore_cfg.init_cfg=dict(type='Pretrained', "
                f"checkpoint='{out}')")
    return out


if __name__ == '__main__':
    main()
