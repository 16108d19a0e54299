"""Write OpenMMLab's model index: ``model-index.yml`` and one
``configs/<folder>/metafile.yml`` per config folder.

Every config (not ``_base_``) becomes a Model of its folder's Collection,
with its config path, training data, input size, epochs, batch and the
params/FLOPs that ``mmpose_attn.tools.analysis.get_flops`` measures; the
papers' reported metrics are listed as the paper's (``paper ...`` metric
names). No weights exist: no full-size model has been trained here, and the
metafiles say so instead of giving a ``Weights`` URL.

    python scripts/gen_model_index.py [--check]

Measurements are cached (``$MMPOSE_ATTN_CACHE``, default
``~/.cache/mmpose_attn``, ``model_index_complexity.json``) by the model's
config and input size, so a rerun measures only new or changed models.
``--check`` writes nothing and exits 1 when a file would change.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import re
import sys
import time

import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NO_WEIGHTS = ('No weights: this model has not been trained by mmpose_attn '
              '(CPU-only development); the results are the paper\'s.')

# Config folder -> Collection.
COLLECTIONS = {
    'spcnet':
    dict(
        Name='SPCNet',
        Title='SPCNet: Spatial Preserve and Content-aware Network for Human '
        'Pose Estimation (ECAI 2020)',
        URL='https://arxiv.org/abs/2004.05834',
        Architecture=[
            'Dilated Hourglass Module', 'Selective Information Module'
        ]),
    'sadinet':
    dict(
        Name='SADINet',
        Title='Spatial Attention-based Distribution Integration Network for '
        'Human Pose Estimation (SADI-Net, arXiv 2023)',
        URL='https://arxiv.org/abs/2311.05323',
        Architecture=[
            'Receptive Fortified Module', 'Spatial Fusion Module',
            'Distribution Learning Module', 'RealNVP'
        ]),
    'sghrnet':
    dict(
        Name='SGHRNet',
        Title='Segmentation Guided Attention Networks for Human Pose '
        'Estimation (SG-HRNet, Traitement du Signal 2024)',
        URL='https://doi.org/10.18280/ts.410522',
        Architecture=[
            'HRNet', 'Segmentation Guided Module',
            'Dynamic Weight Averaging'
        ]),
    'samkr':
    dict(
        Name='SAMKR',
        Title='SAMKR: Bottom-up Keypoint Regression Pose Estimation Method '
        'Based On Subspace Attention Module (IJCNN 2022)',
        URL='https://doi.org/10.1109/IJCNN55064.2022.9891995',
        Architecture=['HRNet', 'DEKR', 'Subspace Attention Module']),
    'toy':
    dict(
        Name='Toy',
        Title=None,
        URL=None,
        Architecture=['SimpleBaseline', 'procedurally rendered data']),
}

DATASET_NAMES = {
    'MpiiDataset': 'MPII',
    'CocoDataset': 'COCO',
    'CrowdPoseDataset': 'CrowdPose',
    'LspDataset': 'LSP',
    'FlicDataset': 'FLIC',
    'ToyPoseDataset': 'Toy MPII (rendered)',
}


def _r(dataset, **metrics):
    return dict(Dataset=dataset, Metrics=metrics)


# The papers' reported numbers (README of each folder), by config file name.
PAPER_RESULTS = {
    # SPCNet: MPII val PCKh@0.5 (Tables 1-4), MPII/LSP/FLIC test (5-7)
    'td-hm_hourglass8_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5 single scale': 88.9,
                       'paper PCKh@0.5 flip': 89.5})],
    'td-hm_hourglass8_4xb12-170e_mpii-256x256_ms6-flip-test.py':
    [_r('MPII val', **{'paper PCKh@0.5': 90.0})],
    'td-hm_dilated-hourglass8-r1_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.0})],
    'td-hm_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.7})],
    'td-hm_dilated-hourglass8-r3_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.4})],
    'spcnet-sum_hourglass8_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.1})],
    'spcnet-concat_hourglass8_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.3})],
    'spcnet_hourglass8_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.6})],
    'spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5 single scale': 90.0,
                       'paper PCKh@0.5 flip': 90.5})],
    'spcnet_dilated-hourglass8-r2_4xb12-170e_mpii-256x256_ms6-flip-test.py':
    [_r('MPII val', **{'paper PCKh@0.5': 91.1}),
     _r('MPII test', **{'paper PCKh@0.5': 92.6})],
    'spcnet_dilated-hourglass8-r2_4xb12-170e_lsp-256x256_ms6-flip-test.py':
    [_r('LSP test', **{'paper PCK@0.2': 96.4})],
    'spcnet_dilated-hourglass8-r2_4xb12-170e_flic-256x256_ms6-flip-test.py':
    [_r('FLIC test', **{'paper PCK@0.2 elbow+wrist': 98.8})],
    # SADI-Net: MPII test / LSP test (Tables 1-2), MPII val ablations (3-5)
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256_ms6-flip-test.py':
    [_r('MPII test', **{'paper PCKh@0.5': 92.1})],
    'sadinet_rfm-hourglass_2xb32-210e_lsp-256x256_ms6-flip-test.py':
    [_r('LSP test', **{'paper PCK@0.2': 94.9})],
    'sadinet_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 90.1})],
    'td-hm_hourglass_2xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 88.9})],
    'td-hm_basic-hourglass_2xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 88.9})],
    'td-hm_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.6})],
    'sadinet-sfm-dlm_hourglass_2xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.7})],
    'sadinet-sum-loss_rfm-hourglass_2xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 89.3})],
    # SG-HRNet: MPII val (Tables 1, 3), COCO val2017 (Table 2)
    'sghrnet_hrnet-w32_1xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 90.6})],
    'sghrnet-r3_hrnet-w32_1xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 90.4})],
    'sghrnet-r9_hrnet-w32_1xb32-210e_mpii-256x256.py':
    [_r('MPII val', **{'paper PCKh@0.5': 90.3})],
    'sghrnet_hrnet-w32_1xb32-210e_coco-256x192.py':
    [_r('COCO val2017', **{'paper AP': 76.3, 'paper AP50': 93.5,
                           'paper AP75': 83.6, 'paper APM': 73.6,
                           'paper APL': 80.9, 'paper AR': 79.5})],
    # SAMKR: COCO val2017 / test-dev (Tables 3-4), CrowdPose test (5),
    # subspace settings on COCO val2017 (Tables 1-2)
    'samkr_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 68.9, 'paper AP50': 87.6,
                           'paper AP75': 74.9, 'paper APM': 62.8,
                           'paper APL': 78.2, 'paper AR': 73.4}),
     _r('COCO test-dev', **{'paper AP': 67.9, 'paper AP50': 88.4,
                            'paper AP75': 74.7, 'paper APM': 62.0,
                            'paper APL': 76.5, 'paper AR': 72.8})],
    'samkr_hrnet-w48_8xb10-140e_coco-640x640.py':
    [_r('COCO val2017', **{'paper AP': 71.6, 'paper AP50': 88.5,
                           'paper AP75': 78.2, 'paper APM': 67.2,
                           'paper APL': 78.9, 'paper AR': 76.5}),
     _r('COCO test-dev', **{'paper AP': 70.4, 'paper AP50': 89.5,
                            'paper AP75': 77.4, 'paper APM': 66.3,
                            'paper APL': 77.2, 'paper AR': 75.7})],
    'samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py':
    [_r('CrowdPose test', **{'paper AP': 73.0, 'paper AP50': 89.6,
                             'paper AP75': 78.7, 'paper AP(E)': 80.7,
                             'paper AP(M)': 74.0, 'paper AP(H)': 62.8})],
    'samkr_hrnet-w48_8xb5-140e_crowdpose-640x640.py':
    [_r('CrowdPose test', **{'paper AP': 74.4, 'paper AP50': 89.8,
                             'paper AP75': 80.4, 'paper AP(E)': 81.5,
                             'paper AP(M)': 75.8, 'paper AP(H)': 64.0})],
    'samkr-shared-g8_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 67.3})],
    'samkr-g1c16_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 64.0})],
    'samkr-g16c16_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 64.2})],
    'samkr-g2c16_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 64.4, 'paper APM': 56.8,
                           'paper APL': 75.6})],
    'samkr-g4c16_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 64.1, 'paper APM': 56.4,
                           'paper APL': 75.6})],
    'samkr-g8c8_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 62.9, 'paper APM': 56.5,
                           'paper APL': 72.8})],
    'samkr-g8c24_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 63.5, 'paper APM': 55.1,
                           'paper APL': 76.1})],
    'samkr-g4c8_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 63.9, 'paper APM': 57.1,
                           'paper APL': 74.2})],
    'samkr-g12c24_hrnet-w32_8xb10-140e_coco-512x512.py':
    [_r('COCO val2017', **{'paper AP': 65.7, 'paper APM': 58.6,
                           'paper APL': 76.5})],
}


def config_paths(repo: str = REPO) -> list:
    """Every config of the repository, ``configs/<folder>/[...]/<name>.py``
    relative to ``repo``, without ``_base_`` folders."""
    paths = glob.glob(
        osp.join(repo, 'configs', '*', '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(p, repo) for p in paths
        if '_base_' not in osp.relpath(p, repo).split(os.sep))


def _cache_file() -> str:
    from mmpose_attn.data import cache_root
    return osp.join(cache_root(), 'model_index_complexity.json')


def _model_key(cfg, input_hw) -> str:
    """Identifies what get_flops measures: the network and its input (not
    the test-time settings, which ``_forward`` does not use)."""
    model = cfg.model.to_dict()
    for key in ('type', 'test_cfg', 'train_cfg'):
        model.pop(key, None)
    text = json.dumps([model, list(input_hw)], sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def _training_data(cfg) -> str:
    dataset = cfg.get('train_dataloader', {}).get('dataset', {})
    if dataset.get('type') == 'CombinedDataset':
        parts = [d.get('type') for d in dataset.get('datasets', [])]
    else:
        parts = [dataset.get('type')]
    return ' + '.join(DATASET_NAMES.get(p, str(p)) for p in parts)


def _resources(name: str):
    found = re.search(r'_(\d+)xb(\d+)-', name)
    return (int(found.group(1)), int(found.group(2))) if found else (None,
                                                                     None)


def describe(path: str, cache: dict) -> dict:
    """The Model entry of one config (measuring it unless cached)."""
    from mmengine.config import Config

    from mmpose_attn.tools.analysis.config_utils import input_hw_of
    from mmpose_attn.tools.analysis.get_flops import get_flops

    cfg = Config.fromfile(osp.join(REPO, path))
    input_hw = tuple(input_hw_of(cfg))
    key = _model_key(cfg, input_hw)
    if key not in cache:
        start = time.time()
        r = get_flops(cfg)
        cache[key] = dict(params=r['params'], flops=r['flops'])
        print(f'  measured {path}: {r["params_m"]:.2f} M params, '
              f'{r["gflops"]:.2f} GFLOPs ({time.time() - start:.0f} s)',
              flush=True)
    measured = cache[key]
    name = osp.splitext(osp.basename(path))[0]
    gpus, batch = _resources(name)
    model = cfg.model
    architecture = [(model.get(part) or {}).get('type')
                    for part in ('backbone', 'neck', 'head')]
    metadata = {
        'Training Data': _training_data(cfg),
        'Input Size': f'{input_hw[0]}x{input_hw[1]}',
        'Architecture': [a for a in architecture if a],
        # counts, as OpenMMLab's metafiles give them (FLOPs: multiply-adds,
        # mmengine's counter, one image at Input Size)
        'Parameters': measured['params'],
        'FLOPs': measured['flops'],
        'Weights': 'none (not trained here)',
    }
    if cfg.get('train_cfg', {}).get('max_epochs'):
        metadata['Epochs'] = cfg.train_cfg.max_epochs
    if gpus:
        metadata['Training Resources'] = f'{gpus} GPUs'
        metadata['Batch Size'] = gpus * batch
    entry = {
        'Name': name,
        'In Collection': COLLECTIONS[path.split(os.sep)[1]]['Name'],
        'Config': path.replace(os.sep, '/'),
        'Metadata': metadata,
    }
    results = PAPER_RESULTS.get(osp.basename(path))
    if results:
        entry['Results'] = [
            dict(Task='Body 2D Keypoint', **r) for r in results
        ]
    return entry


def collection(folder: str) -> dict:
    info = COLLECTIONS[folder]
    metadata = {'Architecture': info['Architecture'], 'Weights': NO_WEIGHTS}
    entry = {'Name': info['Name'], 'Metadata': metadata}
    if info['Title']:
        # The URL as Paper (mim search prints a {Title, URL} dict as its
        # keys); the title in the metadata.
        metadata['Paper Title'] = info['Title']
        entry['Paper'] = info['URL']
    entry['README'] = f'configs/{folder}/README.md'
    return entry


def render(models_by_folder: dict) -> dict:
    """``{relative path: YAML text}`` of every file of the index."""
    files = {}
    for folder, models in sorted(models_by_folder.items()):
        files[f'configs/{folder}/metafile.yml'] = (
            f'# Generated by scripts/gen_model_index.py: do not edit.\n'
            f'# {NO_WEIGHTS}\n' + yaml.safe_dump(
                dict(Collections=[collection(folder)], Models=models),
                sort_keys=False,
                width=78,
                allow_unicode=True))
    files['model-index.yml'] = (
        '# Generated by scripts/gen_model_index.py: do not edit.\n' +
        yaml.safe_dump(
            dict(Import=[f'configs/{f}/metafile.yml'
                         for f in sorted(models_by_folder)]),
            sort_keys=False))
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='write nothing; exit 1 when a file would change')
    args = parser.parse_args(argv)

    import torch
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    import mmpose_attn  # noqa: F401  (registers our modules)

    cache_file = _cache_file()
    cache = {}
    if osp.isfile(cache_file):
        with open(cache_file) as f:
            cache = json.load(f)
    models, failed = {}, []
    start = time.time()
    for path in config_paths():
        folder = path.split(os.sep)[1]
        if folder not in COLLECTIONS:
            failed.append(f'{path}: folder {folder!r} has no Collection in '
                          'scripts/gen_model_index.py')
            continue
        try:
            models.setdefault(folder, []).append(describe(path, cache))
        except Exception as e:  # report every broken config, then fail
            failed.append(f'{path}: {type(e).__name__}: {e}')
        os.makedirs(osp.dirname(cache_file), exist_ok=True)
        with open(cache_file, 'w') as f:
            json.dump(cache, f, indent=1, sort_keys=True)
    files = render(models)
    changed = []
    for rel, text in files.items():
        dst = osp.join(REPO, rel)
        old = open(dst).read() if osp.isfile(dst) else None
        if old != text:
            changed.append(rel)
            if not args.check:
                with open(dst, 'w') as f:
                    f.write(text)
    n = sum(len(m) for m in models.values())
    verb = 'would change' if args.check else 'wrote'
    print(f'{n} models in {len(models)} collections, '
          f'{time.time() - start:.0f} s; {verb}: '
          f'{", ".join(changed) or "nothing"}')
    for line in failed:
        print(f'FAILED {line}', file=sys.stderr)
    return 1 if failed or (args.check and changed) else 0


if __name__ == '__main__':
    sys.exit(main())
