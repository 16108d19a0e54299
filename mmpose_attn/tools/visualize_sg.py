"""Save SG-HRNet's segmentation/attention maps of every stage for one person
next to the ground-truth keypoint segmentation target, as a PNG.

    python -m mmpose_attn.tools.visualize_sg CONFIG CKPT IMG --out out.png \
        [--ann person_keypoints.json [--instance 0]] [--bbox X1 Y1 X2 Y2]

With ``--ann`` (COCO keypoint json holding IMG) the person's box and
keypoints come from the annotation and the target panel is drawn; without
it the box is ``--bbox`` or the whole image, and there is no target.
"""
import mmcv
import numpy as np

from mmpose_attn.tools._visualize_cli import (add_bbox_argument,
                                              load_model_for,
                                              model_image_parser)
from mmpose_attn.visualization.sg_maps import (load_coco_instance,
                                               predict_sg_maps, save_sg_maps)


def parse_args(argv=None):
    parser = model_image_parser(__doc__.split('\n\n')[0], 'SG-HRNet')
    parser.add_argument(
        '--ann', help='COCO keypoint json with IMG: box and target')
    parser.add_argument(
        '--instance', type=int, default=0,
        help='which annotated person of IMG (with --ann)')
    add_bbox_argument(parser, 'without --ann; ')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = load_model_for(args)

    gt = dict(keypoints=None, keypoints_visible=None)
    if args.ann:
        gt = load_coco_instance(args.ann, args.img, args.instance)
        bbox = gt.pop('bbox')
    elif args.bbox:
        bbox = np.array([args.bbox], dtype=np.float32)
    else:
        h, w = mmcv.imread(args.img).shape[:2]
        bbox = np.array([[0, 0, w, h]], dtype=np.float32)

    crop, seg_maps, target = predict_sg_maps(model, args.img, bbox, **gt)
    save_sg_maps(args.out, crop, seg_maps, target)
    print(f'saved {args.out}: maps of {len(seg_maps)} SGMs'
          + ('' if target is None else ' and the ground-truth target'))


if __name__ == '__main__':
    main()
