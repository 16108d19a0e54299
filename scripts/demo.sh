#!/usr/bin/env bash
# The README's main job (`make demo`): train and test pose models side by
# side on the toy dataset with `mim train/test mmpose_attn`, and show what
# they learned: PCKh (MMPose's MpiiPCKAccuracy) of each freshly initialised
# model vs. the trained one, in one table, and a picture of each trained
# model (prediction + the paper's attention maps). The toy images are
# rendered once under ~/.cache/mmpose_attn/toy_mpii/ ($MMPOSE_ATTN_CACHE;
# no download).
#
#   CONFIGS="A B"  configs to train side by side (default: SPCNet's CPU tier
#                  and its stacked-hourglass baseline)
#   WORK_DIR=..    where checkpoints, logs, metrics and pictures go
#   Extra arguments are passed on to `mim train` (e.g. --cfg-options ...).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
CONFIGS=${CONFIGS:-configs/toy/spcnet_dilated-hourglass2-r2-cpu-tier_1xb16-1e_toy-mpii-128x128.py configs/toy/td-hm_hourglass2-cpu-tier_1xb16-1e_toy-mpii-128x128.py}
WORK=${WORK_DIR:-work_dirs/demo}
say() { echo "[demo] $*"; }
# One compute thread plus one data-loading worker fills 2 cores; more OpenMP
# threads than free cores make PyTorch several times slower on a shared box.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

rm -rf "$WORK"
mkdir -p "$WORK"
start=$(date +%s)
names=()
for config in $CONFIGS; do
  name=$(basename "$config" .py)
  names+=("$name")
  dir="$WORK/$name"
  say "$name: 1/5 saving the freshly initialised model (seed 0)"
  "$PY" -m mmpose_attn.tools.save_init_checkpoint "$config" "$dir/init.pth"

  say "$name: 2/5 mim test at initialisation"
  mim test mmpose_attn "$config" --checkpoint "$dir/init.pth" \
    --work-dir "$dir/test_init"

  say "$name: 3/5 mim train, starting from exactly those weights"
  train_start=$(date +%s)
  mim train mmpose_attn "$config" --work-dir "$dir/train" \
    --cfg-options load_from="$dir/init.pth" randomness.seed=0 "$@"
  echo $(($(date +%s) - train_start)) > "$dir/train_seconds"
  ckpt=$(cat "$dir/train/last_checkpoint")

  say "$name: 4/5 mim test of the trained model ($ckpt)"
  mim test mmpose_attn "$config" --checkpoint "$ckpt" \
    --work-dir "$dir/test_trained"

  say "$name: 5/5 picture of the trained model on the first test image"
  "$PY" -m mmpose_attn.tools.analysis.training_pictures "$config" "$ckpt" \
    --out "$WORK/$name.png"
done

total_s=$(($(date +%s) - start))
"$PY" - "$WORK" "$total_s" "${names[@]}" <<'PY'
import glob
import json
import math
import os.path as osp
import sys

work, total_s, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]


def metrics(test_dir):
    """The test metrics mmengine's LoggerHook dumps to
    {work_dir}/{timestamp}/{timestamp}.json."""
    files = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    if not files:
        sys.exit(f'[demo] no metrics json under {test_dir}')
    with open(files[-1]) as f:
        found = json.load(f)
    if not math.isfinite(found.get('PCK', math.nan)):
        sys.exit(f'[demo] {files[-1]} has no finite PCK: {found}')
    return found


summary = {}
for name in names:
    d = osp.join(work, name)
    with open(osp.join(d, 'train_seconds')) as f:
        train_s = int(f.read())
    summary[name] = dict(
        init=metrics(osp.join(d, 'test_init')),
        trained=metrics(osp.join(d, 'test_trained')),
        train_seconds=train_s,
        picture=osp.join(work, f'{name}.png'))
summary_file = osp.join(work, 'summary.json')
with open(summary_file, 'w') as f:
    json.dump(dict(models=summary, total_seconds=total_s), f, indent=2)
width = max(len(n) for n in names)
print()
print(f'{"config":{width}s}  {"PCKh@0.5 (%)":>18s}  {"PCKh@0.1 (%)":>18s}'
      f'  {"training":>9s}')
for name, s in summary.items():
    i, t = s['init'], s['trained']
    print(f'{name:{width}s}  {i["PCK"]:7.2f} -> {t["PCK"]:6.2f}  '
          f'{i["PCK@0.1"]:7.2f} -> {t["PCK@0.1"]:6.2f}  '
          f'{s["train_seconds"]:7d} s')
print(f'whole demo {total_s} s; pictures '
      + ', '.join(s['picture'] for s in summary.values())
      + f'; summary in {summary_file}')
PY
