"""One picture per trained model for :mod:`compare_training`: its prediction
on a test image and, where the model has them, the paper's attention maps
(SPCNet's SIM weights, SG-HRNet's segmentation maps, SAMKR's subspace
attention), drawn with :mod:`mmpose_attn.visualization`.

Usage (a checkpoint's picture on image ``--index`` of the config's test
set, as ``scripts/demo.sh`` saves them)::

    python -m mmpose_attn.tools.analysis.training_pictures CONFIG CKPT \
        --out picture.png [--index 0] [--device cpu]
"""
import argparse
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np
from torch import nn

from mmpose_attn.tools._output import add_force_argument, check_output_path
from mmpose_attn.visualization.panels import titled_panel

PANEL_HEIGHT = 256


def _prediction_panel(model: nn.Module, img: np.ndarray, data_sample,
                      title: str) -> np.ndarray:
    """The image with the predicted skeleton, drawn by MMPose's own
    :class:`PoseLocalVisualizer` (keypoints with score > 0.3)."""
    from mmpose.visualization import PoseLocalVisualizer

    visualizer = PoseLocalVisualizer(radius=3, line_width=2, kpt_color=None)
    visualizer.set_dataset_meta(model.dataset_meta)
    rgb = visualizer.add_datasample(
        'prediction',
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB),
        data_sample,
        draw_gt=False,
        draw_bbox=True,
        kpt_thr=0.3,
        show=False)
    return titled_panel(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), title, PANEL_HEIGHT)


def _attention_rows(model: nn.Module, img_path: str, img: np.ndarray,
                    bbox: Optional[np.ndarray], info: dict) -> List:
    """The paper's attention maps of ``model`` on the image, as picture
    rows; none for a model without attention maps (e.g. a baseline)."""
    from mmpose_attn.models.backbones.sg_hrnet import SGHRNet
    from mmpose_attn.visualization import draw_sg_maps, draw_sim_weights
    from mmpose_attn.visualization.sg_maps import predict_sg_maps
    from mmpose_attn.visualization.sim_weights import (collect_sim_weights,
                                                       weights_to_image)
    from mmpose_attn.visualization.subspace_attention import (
        collect_subspace_attention, draw_subspace_attention)

    if getattr(getattr(model, 'neck', None), 'fusion', None) == 'attention':
        weights, sizes, sample = collect_sim_weights(model, img, bbox)
        meta = sample.metainfo
        mapped = weights_to_image(weights, img.shape[:2],
                                  meta['input_center'], meta['input_scale'])
        return [draw_sim_weights(img, mapped, sizes)]
    if isinstance(getattr(model, 'backbone', None), SGHRNet):
        keypoints = info.get('keypoints')
        crop, maps, target = predict_sg_maps(
            model, img_path, bbox[None] if bbox.ndim == 1 else bbox,
            keypoints, info.get('keypoints_visible'))
        return [draw_sg_maps(crop, maps, target)]
    if getattr(getattr(model, 'head', None), 'subspace_attention',
               None) is not None:
        names = model.dataset_meta.get('keypoint_id2name', {})
        # two keypoints keep the picture readable: nose and left wrist
        attn, ids, sample = collect_subspace_attention(model, img_path,
                                                       [0, 9])
        return [draw_subspace_attention(img, attn, ids, sample, names)]
    return []


def draw_training_picture(model: nn.Module, img_path: str,
                          info: dict, title: str) -> np.ndarray:
    """The prediction of ``model`` on ``img_path`` (top-down: on the person
    box ``info['bbox']``) above the paper's attention maps.

    Args:
        model (nn.Module): A trained pose estimator with ``cfg`` and
            ``dataset_meta`` set, in eval mode.
        img_path (str): Test image.
        info (dict): The image's data info from the dataset (``bbox``,
            ``keypoints``, ``keypoints_visible``).
        title (str): Title of the prediction panel.

    Returns:
        np.ndarray: The BGR picture.
    """
    from mmpose.apis import inference_bottomup, inference_topdown

    img = cv2.imread(img_path)
    if img is None:
        raise FileNotFoundError(f'cannot read image {img_path}')
    bottomup = model.cfg.get('data_mode', 'topdown') == 'bottomup'
    bbox = None if bottomup else np.asarray(info['bbox'],
                                            np.float32).reshape(-1, 4)[:1]
    sample = (inference_bottomup(model, img_path)[0] if bottomup else
              inference_topdown(model, img_path, bbox)[0])
    rows = [_prediction_panel(model, img, sample, title)]
    rows += _attention_rows(model, img_path, img,
                            None if bbox is None else bbox[0], info)
    width = max(r.shape[1] for r in rows)
    rows = [
        np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)),
               constant_values=255) for r in rows
    ]
    return np.concatenate(rows, axis=0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Save a trained model's prediction on a test image with "
        "the paper's attention maps.")
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument(
        '--index', type=int, default=0, help='image of the test set')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    add_force_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> np.ndarray:
    import mmcv
    from mmpose_attn.engine.loading import init_model
    from mmpose.registry import DATASETS

    import mmpose_attn  # noqa: F401  registers our modules

    args = parse_args(argv)
    for kind, path in (('config', args.config), ('checkpoint',
                                                 args.checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file {path} does not exist')
    check_output_path(args.out, args.force)
    model = init_model(args.config, args.checkpoint, device=args.device)
    dataset = DATASETS.build(model.cfg.test_dataloader.dataset)
    if not 0 <= args.index < len(dataset):
        raise IndexError(f'--index {args.index}: the test set of '
                         f'{args.config} has {len(dataset)} images')
    info = dataset.get_data_info(args.index)
    title = osp.splitext(osp.basename(args.checkpoint))[0]
    canvas = draw_training_picture(model, info['img_path'], info, title)
    mmcv.imwrite(canvas, args.out)
    print(f'saved {args.out}')
    return canvas


if __name__ == '__main__':
    main()
