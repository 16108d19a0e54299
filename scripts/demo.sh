#!/usr/bin/env bash
# The README's main job (`make demo`): train and test a pose model on the toy
# dataset with `mim train/test mmpose_attn`, and show that it learned: PCKh@0.5
# (MMPose's MpiiPCKAccuracy) of the freshly initialised model vs. the trained
# one. The toy images are rendered once under data/toy_mpii/ (no download).
#
#   CONFIG=...  another config (default: the toy demo)
#   WORK_DIR=.. where checkpoints, logs and metrics go (default below)
#   Extra arguments are passed on to `mim train` (e.g. --cfg-options ...).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
CONFIG=${CONFIG:-configs/toy/td-hm_res18-c32_1xb32-2e_toy-mpii-128x128.py}
WORK=${WORK_DIR:-work_dirs/toy_demo}
say() { echo "[demo] $*"; }
# One compute thread plus one data-loading worker fills 2 cores; more OpenMP
# threads than free cores make PyTorch several times slower on a shared box.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

rm -rf "$WORK"
mkdir -p "$WORK"
start=$(date +%s)

say "1/4 saving the freshly initialised model to $WORK/init.pth"
"$PY" -m mmpose_attn.tools.save_init_checkpoint "$CONFIG" "$WORK/init.pth"

say "2/4 mim test at initialisation"
mim test mmpose_attn "$CONFIG" --checkpoint "$WORK/init.pth" \
  --work-dir "$WORK/test_init"

say "3/4 mim train, starting from exactly those weights"
train_start=$(date +%s)
mim train mmpose_attn "$CONFIG" --work-dir "$WORK/train" \
  --cfg-options load_from="$WORK/init.pth" "$@"
train_s=$(($(date +%s) - train_start))
ckpt=$(cat "$WORK/train/last_checkpoint")

say "4/4 mim test of the trained model ($ckpt)"
mim test mmpose_attn "$CONFIG" --checkpoint "$ckpt" \
  --work-dir "$WORK/test_trained"

total_s=$(($(date +%s) - start))
"$PY" - "$WORK" "$train_s" "$total_s" <<'PY'
import glob
import json
import math
import os.path as osp
import sys

work, train_s, total_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def metrics(test_dir):
    """The test metrics mmengine's LoggerHook dumps to
    {work_dir}/{timestamp}/{timestamp}.json."""
    files = sorted(glob.glob(osp.join(work, test_dir, '*', '*.json')))
    if not files:
        sys.exit(f'[demo] no metrics json under {osp.join(work, test_dir)}')
    with open(files[-1]) as f:
        found = json.load(f)
    if not math.isfinite(found.get('PCK', math.nan)):
        sys.exit(f'[demo] {files[-1]} has no finite PCK: {found}')
    return found


init, trained = metrics('test_init'), metrics('test_trained')
summary = dict(init=init, trained=trained, train_seconds=train_s,
               total_seconds=total_s)
with open(osp.join(work, 'summary.json'), 'w') as f:
    json.dump(summary, f, indent=2)
print()
print(f'{"":24s}{"initialised":>14s}{"trained":>10s}')
for key, name in (('PCK', 'PCKh@0.5 (%)'), ('PCK@0.1', 'PCKh@0.1 (%)')):
    print(f'{name:24s}{init[key]:14.2f}{trained[key]:10.2f}')
print(f'training {train_s} s, whole demo {total_s} s; '
      f'summary in {osp.join(work, "summary.json")}')
PY
