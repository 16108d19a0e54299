"""Save SPCNet's Selective Information Module weights A1..A4 for one person.

Example (CONFIG e.g. configs/spcnet/spcnet_dilated-hourglass8-r2_4xb12-170e_
mpii-256x256.py)::

    python -m mmpose_attn.tools.visualize_sim CONFIG ckpt.pth demo.jpg \\
        --bbox 100 50 300 400 --out sim_weights.png
"""
from mmpose_attn.tools._visualize_cli import (add_bbox_argument,
                                              load_model_for,
                                              model_image_parser)
from mmpose_attn.visualization.sim_weights import save_sim_weights


def parse_args(argv=None):
    parser = model_image_parser(__doc__.splitlines()[0], 'SPCNet',
                                'sim_weights.png')
    add_bbox_argument(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = load_model_for(args)
    weights = save_sim_weights(model, args.img, args.out, args.bbox)
    print(f'saved {weights.shape[0]} SIM weight maps to {args.out}')


if __name__ == '__main__':
    main()
