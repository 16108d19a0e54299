"""Encoding cost of :class:`SegmentationHeatmap` against MMPose's
:class:`MSRAHeatmap` on identical keypoints, timed interleaved in one
process by :func:`~mmpose_attn.tools.analysis.measure.time_interleaved`.

    python -m mmpose_attn.tools.analysis.codec_benchmark \
        [--input-size 192 256] [--heatmap-size 48 64] [--num-keypoints 17] \
        [--radius 5] [--instances 1] [--iters 2000]
"""
import argparse
from typing import Dict, Sequence

import numpy as np
from mmpose.codecs import MSRAHeatmap

from mmpose_attn.codecs import SegmentationHeatmap
from .measure import median_iqr, time_interleaved


def benchmark_encode(input_size: Sequence[int] = (192, 256),
                     heatmap_size: Sequence[int] = (48, 64),
                     num_keypoints: int = 17,
                     radius: float = 5.,
                     sigma: float = 2.,
                     instances: int = 1,
                     iters: int = 2000,
                     seed: int = 0) -> Dict[str, float]:
    """Median encode time (microseconds) of both codecs and their ratio.

    Keypoints are uniform over the input image, 80% of them labelled, a new
    set each round. MSRAHeatmap encodes one instance only; with
    ``instances > 1`` it is given the instances one by one (the loop a user
    of it would write).
    """
    msra = MSRAHeatmap(tuple(input_size), tuple(heatmap_size), sigma)
    ours = SegmentationHeatmap(
        tuple(input_size), tuple(heatmap_size), sigma, radius=radius)
    rng = np.random.default_rng(seed)
    size = np.asarray(input_size, dtype=np.float32)
    batch = {}

    def new_keypoints(*_):
        batch['kpts'] = rng.uniform(size=(instances, num_keypoints, 2)) * size
        batch['vis'] = (rng.uniform(size=(instances, num_keypoints)) <
                        .8).astype(np.float32)

    def run_msra():
        kpts, vis = batch['kpts'], batch['vis']
        for n in range(len(kpts)):
            msra.encode(kpts[n:n + 1], vis[n:n + 1])

    new_keypoints()
    times = time_interleaved(
        [run_msra, lambda: ours.encode(batch['kpts'], batch['vis'])], iters,
        on_round=new_keypoints)
    msra_us, ours_us = (median_iqr(t)[0] * 1e6 for t in times)
    return dict(msra_us=msra_us, ours_us=ours_us, ratio=ours_us / msra_us)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--input-size', type=int, nargs=2,
                        default=[192, 256], metavar=('W', 'H'))
    parser.add_argument('--heatmap-size', type=int, nargs=2,
                        default=[48, 64], metavar=('W', 'H'))
    parser.add_argument('--num-keypoints', type=int, default=17)
    parser.add_argument('--radius', type=float, default=5.)
    parser.add_argument('--sigma', type=float, default=2.)
    parser.add_argument('--instances', type=int, default=1)
    parser.add_argument('--iters', type=int, default=2000)
    args = parser.parse_args(argv)
    res = benchmark_encode(args.input_size, args.heatmap_size,
                           args.num_keypoints, args.radius, args.sigma,
                           args.instances, args.iters)
    print(f'encode, median of {args.iters} (interleaved), '
          f'{args.instances} instance(s) x {args.num_keypoints} keypoints, '
          f'heatmap {args.heatmap_size[0]}x{args.heatmap_size[1]}, '
          f'r={args.radius:g}:')
    print(f'  MSRAHeatmap          {res["msra_us"]:8.1f} us')
    print(f'  SegmentationHeatmap  {res["ours_us"]:8.1f} us')
    print(f'  ratio                {res["ratio"]:8.3f}x')
    return res


if __name__ == '__main__':
    main()
