#!/usr/bin/env bash
# One-shot GPU check (issue 14): AMP training speed of each paper's model
# against its baseline, inference latency, and the deformable convolution on
# the GPU against its CPU result. A markdown report on stdout (and --out,
# --json), written section by section as measured; the harness is
# tools/gpu_check/ (not part of the installed package): see
# `PYTHONPATH=tools python -m gpu_check --help` for its options.
#
#   bash scripts/gpu_check.sh [--wheels DIR] [--save-wheels DIR] [gpu_check options]
#   bash scripts/gpu_check.sh --device cpu --iters 2   # CPU smoke run (the test suite's)
#   bash scripts/gpu_check.sh --download-wheels [DIR]  # where PyPI is reachable
#
# Checked first, before anything is installed: python has torch; with
# --device cuda (the default) torch sees a CUDA GPU, else it stops with
# status 2. Then, if mmengine 0.10.7, mmcv 2.1.0 with its compiled ops,
# mmpose 1.3.2, mmdet 3.3.0 (MMPose imports it) with its needs (pycocotools,
# shapely, terminaltables, six) or a numpy-2-safe xtcocotools are missing,
# they are installed offline from DIR (default: .whl/ in the repo root,
# filled by --download-wheels) into $GPU_CHECK_SITE (default /tmp/gpu_check_site),
# which goes first on PYTHONPATH; the python environment itself is not
# touched. mmcv and xtcocotools come as sdists and are built there: mmcv's
# ops for the CPU only (no nvcc needed; our deformable convolution runs
# torchvision's CUDA kernel), about 4-5 minutes on 16 cores (32 on 2). The built mmcv
# wheel goes to DIR/mmcv-torch-<version>/ and, with --save-wheels OUT, to
# OUT/mmcv-torch-<version>/: carried back in DIR, a later run skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEELS=.whl
SAVE_WHEELS=
DEVICE=cuda
ARGS=()
die() { echo "gpu_check: error: $*" >&2; exit 2; }
say() { echo "[gpu_check] $*" >&2; }

download_wheels() {
  # Wheels for CPython 3.12 (the GPU machine's) and the two sdists built
  # there. The GPU image already has torch, torchvision, numpy, scipy,
  # opencv, matplotlib, pillow, pyyaml, rich, tqdm, cython. The sdists are
  # fetched without building their metadata (pip download would run mmcv's
  # setup.py under the newest setuptools, which lacks pkg_resources).
  local dir=$1
  mkdir -p "$dir"
  "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$dir" \
    mmengine==0.10.7 mmpose==1.3.2 mmdet==3.3.0 'setuptools<80' addict yapf \
    platformdirs termcolor json_tricks munkres pycocotools shapely \
    terminaltables six
  PYTHONPATH=tools "$PY" -m gpu_check.wheels "$dir" mmcv==2.1.0 xtcocotools==1.14.3
  say "wheels and sdists in $dir; carry it to the GPU machine (e.g. as .whl/)"
}

while [ $# -gt 0 ]; do
  case $1 in
    --download-wheels)
      if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then download_wheels "$2"; else download_wheels "$WHEELS"; fi
      exit 0 ;;
    --wheels) WHEELS=$2; shift 2 ;;
    --save-wheels) SAVE_WHEELS=$2; shift 2 ;;
    --device) DEVICE=$2; ARGS+=("$1" "$2"); shift 2 ;;
    --device=*) DEVICE=${1#--device=}; ARGS+=("$1"); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

read -r has_cuda torch_ver < <("$PY" -c 'import torch; print(int(torch.cuda.is_available()), torch.__version__)' 2>/dev/null) ||
  die "$PY cannot import torch"
if [ "${DEVICE%%:*}" = cuda ]; then
  [ "$has_cuda" = 1 ] ||
    die "--device $DEVICE asked for, but torch $torch_ver sees no CUDA GPU; use --device cpu for the CPU smoke run"
elif [ "$DEVICE" != cpu ]; then
  die "--device $DEVICE: cpu or cuda[:i] only"
fi

SITE=${GPU_CHECK_SITE:-/tmp/gpu_check_site}
export PYTHONPATH="$SITE:$PWD:$PWD/tools${PYTHONPATH:+:$PYTHONPATH}"
xtcoco_ok='from xtcocotools import mask; import numpy as np
m = np.asfortranarray(np.ones((2, 2), np.uint8)); assert (mask.decode(mask.encode(m)) == m).all()'
# cheap (no torch-heavy imports): versions from the metadata, mmcv's compiled
# extension, mmdet's needs and the harness present, xtcocotools' mask round trip
deps_ok="from importlib.metadata import version; from importlib.util import find_spec
assert [version(p) for p in ('mmengine', 'mmcv', 'mmpose', 'mmdet')] == ['0.10.7', '2.1.0', '1.3.2', '3.3.0']
missing = [m for m in ('mmcv._ext', 'mmpose_attn', 'gpu_check', 'pycocotools', 'shapely', 'terminaltables', 'six') if not find_spec(m)]
assert not missing, missing
$xtcoco_ok"

install_from_wheels() {
  [ -d "$WHEELS" ] || die "missing packages and no wheel folder $WHEELS (make it with --download-wheels where PyPI is reachable, then carry it)"
  local pip="$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $SITE"
  local built src
  built=$WHEELS/mmcv-torch-${torch_ver//+/_}
  mkdir -p "$SITE"
  say "installing the wheels of $WHEELS into $SITE"
  $pip "$WHEELS"/*.whl $(ls "$built"/*.whl 2>/dev/null)
  if ! "$PY" -c 'import torch, mmcv.ops' 2>/dev/null; then
    say "building mmcv 2.1.0 with CPU ops against torch $torch_ver ($(nproc) jobs)"
    src=$(mktemp -d)
    tar xzf "$WHEELS"/mmcv-2.1.0.tar.gz -C "$src"
    # torch >= 2.14's headers need C++20; mmcv's setup.py forces C++17
    sed -i "s/'-std=c++17'/'-std=c++20'/" "$src"/mmcv-2.1.0/setup.py
    rm -rf "$built" && mkdir -p "$built"
    # CPU ops only, also on a GPU machine: mmcv's setup.py compiles CUDA
    # whenever torch sees a GPU
    CUDA_VISIBLE_DEVICES= HIP_VISIBLE_DEVICES= FORCE_CUDA=0 MMCV_WITH_OPS=1 MAX_JOBS=$(nproc) \
      "$PY" -m pip wheel -q --no-index --no-build-isolation --no-deps -w "$built" "$src"/mmcv-2.1.0
    rm -rf "$src"
    $pip "$built"/*.whl
    if [ -n "$SAVE_WHEELS" ]; then
      mkdir -p "$SAVE_WHEELS/${built##*/}" && cp "$built"/*.whl "$SAVE_WHEELS/${built##*/}/"
      say "mmcv wheel saved to $SAVE_WHEELS/${built##*/}/: carry it in $WHEELS/ next time"
    fi
  fi
  if ! "$PY" -c "$xtcoco_ok" 2>/dev/null; then
    say "building xtcocotools 1.14.3 against numpy $("$PY" -c 'import numpy; print(numpy.__version__)')"
    src=$(mktemp -d)
    tar xzf "$WHEELS"/xtcocotools-1.14.3.tar.gz -C "$src"
    # np.NPY_OWNDATA is gone in numpy 2 (mask.decode fails at run time)
    sed -i 's/np\.NPY_OWNDATA/np.NPY_ARRAY_OWNDATA/' "$src"/xtcocotools-1.14.3/xtcocotools/_mask.pyx
    $pip --no-build-isolation "$src"/xtcocotools-1.14.3
    rm -rf "$src"
  fi
}

if "$PY" -c "$deps_ok" 2>/dev/null; then
  say "mmengine 0.10.7, mmcv 2.1.0 (ops), mmpose 1.3.2, mmdet 3.3.0 and its needs, xtcocotools and mmpose_attn found"
else
  install_from_wheels
  "$PY" -c "$deps_ok" || die "still cannot import the stack after installing from $WHEELS (see above)"
fi
exec "$PY" -m gpu_check "${ARGS[@]}"
