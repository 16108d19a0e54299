"""PyTorch eager against ONNX Runtime, for each paper model and its
baseline, on the CPU.

Usage::

    python -m mmpose_attn.tools.deployment.benchmark_onnx \\
        [--tiers tiny cpu main] [--papers SPCNet SADI-Net SG-HRNet SAMKR] \\
        [--batch-sizes 1 8] [--main-batch-sizes 1] [--iters 20] \\
        [--warmup 3] [--threads 2] [--deform-conv DeformConv|GridSample] \\
        [--simplify] [--profile DIR] [--work-dir DIR]

For each pair (paper, baseline) and batch size, the four steps (paper eager,
paper ONNX Runtime, baseline eager, baseline ONNX Runtime) are timed
interleaved, one iteration each in turn, and reported as medians. Eager is
``model._forward`` under ``torch.no_grad`` (as ``tools/analysis/benchmark``'s
forward mode, whose ``make_step`` it uses), with the config's own
deformable-convolution backend; ONNX Runtime runs this package's export
(random weights: the time does not depend on them). Goal (issue 27):
paper/baseline in ONNX Runtime at most 1.15x paper/baseline in eager, and
ONNX Runtime at most 0.7x eager for every model.

``--profile DIR`` writes ONNX Runtime's profile of each model and prints the
operator types that take the most time.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
import torch

from ..analysis.benchmark import make_step
from . import core

# (paper, tier) -> (paper config, baseline config, baseline cfg_options).
# The tiny baselines that have no config of their own are the paper's tiny
# config with the paper's modules swapped for the baseline's, as the
# CPU-tier baseline configs do.
_SADINET_TINY = 'configs/sadinet/sadinet_rfm-hourglass-tiny_1xb8-1e_toy-mpii-64x64.py'  # noqa: E501
_SAMKR_TINY = 'configs/samkr/samkr_hrnet-tiny_1xb2-2e_coco-128x128.py'
_SGHRNET_TINY = 'configs/sghrnet/sghrnet_hrnet-tiny_1xb2-1e_coco-128x96.py'
TINY_BASELINES = {
    # 2-stack hourglass of plain basic blocks + the stacks' heatmaps
    'SADI-Net': {
        'model.backbone.dilated_branch': False,
        'model.backbone.se_ratio': None,
        'model.backbone.level_channels': None,
        'model.head': dict(
            _delete_=True, type='SPCNetHead', in_channels=16,
            out_channels=16, num_stacks=2, use_fused=False,
            decoder=dict(type='MSRAHeatmap', input_size=(64, 64),
                         heatmap_size=(16, 16), sigma=2)),
    },
    # MMPose's HRNet and HeatmapHead with the same stages
    'SG-HRNet': {
        'model.backbone': dict(
            _delete_=True, type='HRNet', in_channels=3, init_cfg=None,
            extra=dict(
                stage1=dict(num_modules=1, num_branches=1,
                            block='BOTTLENECK', num_blocks=(1, ),
                            num_channels=(16, )),
                stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                            num_blocks=(1, 1), num_channels=(8, 16)),
                stage3=dict(num_modules=1, num_branches=3, block='BASIC',
                            num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
                stage4=dict(num_modules=1, num_branches=4, block='BASIC',
                            num_blocks=(1, 1, 1, 1),
                            num_channels=(8, 16, 32, 64)),
                upsample=dict(mode='bilinear', align_corners=False))),
        'model.head': dict(
            _delete_=True, type='HeatmapHead', in_channels=8,
            out_channels=17, deconv_out_channels=None,
            decoder=dict(type='MSRAHeatmap', input_size=(96, 128),
                         heatmap_size=(24, 32), sigma=1)),
    },
    # DEKR: no attention, c = 15, two adaptive blocks
    'SAMKR': {
        'model.head.attention_cfg': None,
        'model.head.num_displacement_filters_per_keypoint': 15,
        'model.head.num_adaptive_blocks': 2,
    },
}
PAIRS = {
    'tiny': {
        'SPCNet': ('configs/spcnet/spcnet_dilated-hourglass2-tiny_1xb2-2e_toy-64x64.py',  # noqa: E501
                   'configs/spcnet/td-hm_hourglass2-tiny_1xb2-2e_toy-64x64.py',  # noqa: E501
                   None),
        'SADI-Net': (_SADINET_TINY, _SADINET_TINY,
                     TINY_BASELINES['SADI-Net']),
        'SG-HRNet': (_SGHRNET_TINY, _SGHRNET_TINY,
                     TINY_BASELINES['SG-HRNet']),
        'SAMKR': (_SAMKR_TINY, _SAMKR_TINY, TINY_BASELINES['SAMKR']),
    },
    'cpu': {
        'SPCNet': ('configs/spcnet/cpu_tier/spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-170e_lsp-128x128.py',  # noqa: E501
                   'configs/spcnet/cpu_tier/td-hm_hourglass2-cpu-tier_1xb16-170e_lsp-128x128.py',  # noqa: E501
                   None),
        'SADI-Net': ('configs/sadinet/cpu_tier/sadinet_rfm-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py',  # noqa: E501
                     'configs/sadinet/cpu_tier/td-hm_basic-hourglass2-cpu-tier_1xb16-210e_lsp-128x128.py',  # noqa: E501
                     None),
        'SG-HRNet': ('configs/sghrnet/cpu_tier/sghrnet_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py',  # noqa: E501
                     'configs/sghrnet/cpu_tier/td-hm_hrnet-w8-small-cpu-tier_1xb16-210e_lsp-128x96.py',  # noqa: E501
                     None),
        'SAMKR': ('configs/samkr/cpu_tier/samkr_hrnet-w8-small-cpu-tier_1xb16-140e_coco-256x256.py',  # noqa: E501
                  'configs/samkr/cpu_tier/dekr_hrnet-w8-small-cpu-tier_1xb16-140e_coco-256x256.py',  # noqa: E501
                  None),
    },
    'main': {
        'SPCNet': ('configs/spcnet/spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py',  # noqa: E501
                   'configs/spcnet/td-hm_hourglass8_4xb12-170e_mpii-256x256.py',  # noqa: E501
                   None),
        'SADI-Net': ('configs/sadinet/sadinet_rfm-hourglass8_2xb32-210e_mpii-256x256.py',  # noqa: E501
                     'configs/sadinet/td-hm_basic-hourglass8_2xb32-210e_mpii-256x256.py',  # noqa: E501
                     None),
        'SG-HRNet': ('configs/sghrnet/sghrnet_hrnet-w32_1xb32-210e_coco-256x192.py',  # noqa: E501
                     'configs/sghrnet/td-hm_hrnet-w32_1xb32-210e_coco-256x192_sghrnet-recipe.py',  # noqa: E501
                     None),
        'SAMKR': ('configs/samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py',
                  'configs/samkr/dekr_hrnet-w32_8xb10-140e_coco-512x512.py',
                  None),
    },
}


def repo_path(path: str) -> str:
    """A config path relative to the checkout (or the installed .mim)."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    for base in (root, osp.join(root, 'mmpose_attn', '.mim')):
        if osp.isfile(osp.join(base, path)):
            return osp.join(base, path)
    raise FileNotFoundError(f'config {path} does not exist')


def _ort_step(session, batch_size, hw):
    feed = {
        session.get_inputs()[0].name:
        np.random.default_rng(0).standard_normal(
            (batch_size, 3, *hw)).astype(np.float32)
    }
    return lambda: session.run(None, feed)


def _profile_summary(path: str, top: int = 6) -> str:
    """Share of ONNX Runtime's node time per operator type."""
    with open(path) as f:
        events = json.load(f)
    per_op = defaultdict(float)
    for e in events:
        if e.get('cat') == 'Node' and e.get('name', '').endswith(
                '_kernel_time'):
            per_op[e.get('args', {}).get('op_name', '?')] += e['dur']
    total = sum(per_op.values()) or 1.0
    ranked = sorted(per_op.items(), key=lambda kv: -kv[1])[:top]
    return ', '.join(f'{op} {100 * t / total:.0f}%' for op, t in ranked)


def benchmark_pair(paper: str, tier: str, batch_sizes, iters: int,
                   warmup: int, threads: int, work_dir: str,
                   deform_conv_op: str = 'DeformConv',
                   simplify: bool = False, profile_dir: str = None) -> list:
    """Rows ``{paper, tier, batch, model, eager_ms, ort_ms}`` of one pair,
    each batch size timed interleaved across the four steps."""
    paper_cfg, base_cfg, base_options = PAIRS[tier][paper]
    models = []
    for role, config, options in (('paper', paper_cfg, None),
                                  ('baseline', base_cfg, base_options)):
        cfg = core.load_config(repo_path(config), options)
        model = core.load_model(cfg)
        onnx_file = osp.join(work_dir, f'{paper}_{tier}_{role}.onnx')
        core.export(model, onnx_file,
                    deform_conv_op=deform_conv_op, simplify=simplify)
        prefix = (osp.join(profile_dir, f'{paper}_{tier}_{role}')
                  if profile_dir else None)
        models.append((role, cfg, model, onnx_file, prefix))
    rows = []
    for batch in batch_sizes:
        steps, names = [], []
        sessions = []
        for role, cfg, model, onnx_file, prefix in models:
            hw = core.input_size_of(model)
            steps.append(make_step(model, cfg, 'forward', batch, hw, 'cpu'))
            session = core.ort_session(
                onnx_file, threads,
                profile=f'{prefix}_b{batch}' if prefix else None)
            sessions.append((role, session))
            steps.append(_ort_step(session, batch, hw))
            names += [(role, 'eager'), (role, 'ort')]
        times = [[] for _ in steps]
        for i in range(warmup + iters):
            for step, ts in zip(steps, times):
                t0 = time.perf_counter()
                step()
                if i >= warmup:
                    ts.append((time.perf_counter() - t0) * 1e3)
        medians = {n: float(np.median(t)) for n, t in zip(names, times)}
        for role, _, _, onnx_file, _ in models:
            rows.append(
                dict(paper=paper, tier=tier, batch=batch, model=role,
                     config=osp.basename(
                         PAIRS[tier][paper][0 if role == 'paper' else 1]),
                     eager_ms=medians[(role, 'eager')],
                     ort_ms=medians[(role, 'ort')]))
        for role, session in sessions:
            if profile_dir:
                path = session.end_profiling()
                rows[-2 if role == 'paper' else -1]['profile'] = \
                    _profile_summary(path)
    return rows


def format_table(rows: list) -> str:
    """Markdown table with the goal's two ratios per pair."""
    lines = [
        '| paper | tier | batch | paper eager / ORT (ms) | baseline eager '
        '/ ORT (ms) | paper/baseline eager | paper/baseline ORT | '
        'ORT/eager paper | ORT/eager baseline | goal |',
        '| :-- | :-- | --: | --: | --: | --: | --: | --: | --: | :-: |'
    ]
    for i in range(0, len(rows), 2):
        p, b = rows[i], rows[i + 1]
        eager_ratio = p['eager_ms'] / b['eager_ms']
        ort_ratio = p['ort_ms'] / b['ort_ms']
        rp, rb = p['ort_ms'] / p['eager_ms'], b['ort_ms'] / b['eager_ms']
        ok = ort_ratio <= 1.15 * eager_ratio and rp <= 0.7 and rb <= 0.7
        lines.append(
            f"| {p['paper']} | {p['tier']} | {p['batch']} | "
            f"{p['eager_ms']:.1f} / {p['ort_ms']:.1f} | "
            f"{b['eager_ms']:.1f} / {b['ort_ms']:.1f} | {eager_ratio:.2f} | "
            f"{ort_ratio:.2f} | {rp:.2f} | {rb:.2f} | "
            f"{'met' if ok else 'missed'} |")
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Eager vs ONNX Runtime latency of the paper models and '
        'their baselines (interleaved, medians)')
    parser.add_argument('--tiers', nargs='+', choices=tuple(PAIRS),
                        default=['tiny', 'cpu'])
    parser.add_argument('--papers', nargs='+', choices=tuple(PAIRS['tiny']),
                        default=list(PAIRS['tiny']))
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--main-batch-sizes', type=int, nargs='+',
                        default=[1], help='batch sizes of the main tier')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2,
                        help='torch and ONNX Runtime intra-op threads')
    parser.add_argument('--deform-conv', choices=('DeformConv', 'GridSample'),
                        default='DeformConv')
    parser.add_argument('--simplify', action='store_true',
                        help='onnxslim the exports')
    parser.add_argument('--profile', default=None, metavar='DIR',
                        help='write ONNX Runtime profiles here and summarise')
    parser.add_argument('--work-dir', default=None,
                        help='where the ONNX files go (default: a temp dir)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    core.require_onnx()
    torch.set_num_threads(args.threads)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='benchmark_onnx_')
    os.makedirs(work_dir, exist_ok=True)
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    print(f'torch {torch.__version__}, threads {args.threads}, iters '
          f'{args.iters}, warmup {args.warmup}, deform conv as '
          f'{args.deform_conv}{", onnxslim" if args.simplify else ""}')
    rows = []
    for tier in args.tiers:
        for paper in args.papers:
            batches = (args.main_batch_sizes
                       if tier == 'main' else args.batch_sizes)
            new = benchmark_pair(paper, tier, batches, args.iters,
                                 args.warmup, args.threads, work_dir,
                                 args.deform_conv, args.simplify,
                                 args.profile)
            rows += new
            print(format_table(new).splitlines()[-1], flush=True)
            for r in new:
                if 'profile' in r:
                    print(f"  ORT profile {r['model']} b{r['batch']}: "
                          f"{r['profile']}", flush=True)
    print()
    print(format_table(rows))
    for path in glob.glob(osp.join(work_dir, '*.onnx')):
        if not args.work_dir:
            os.remove(path)
    return 0


if __name__ == '__main__':
    sys.exit(core.run_cli(main))
