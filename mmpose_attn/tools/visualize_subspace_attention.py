"""Save SAMKR's subspace attention maps of chosen keypoints for one image.

Example::

    python -m mmpose_attn.tools.visualize_subspace_attention \\
        configs/samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py ckpt.pth \\
        demo.jpg --keypoints 0 left_wrist --out attention.png
"""
from mmpose_attn.tools._visualize_cli import load_model_for, model_image_parser
from mmpose_attn.visualization.subspace_attention import \
    save_subspace_attention


def parse_args(argv=None):
    parser = model_image_parser(__doc__.splitlines()[0], 'SAMKR',
                                'subspace_attention.png')
    parser.add_argument(
        '--keypoints',
        nargs='+',
        help='keypoint ids or names (default: all)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = load_model_for(args)
    attn = save_subspace_attention(model, args.img, args.out, args.keypoints)
    print(f'saved {attn.shape[0]} keypoint(s) x {attn.shape[1]} subspace '
          f'attention maps to {args.out}')


if __name__ == '__main__':
    main()
