#!/usr/bin/env bash
# Idempotent environment setup for mmpose_attn on a fresh x86-64, Python 3.11
# machine (CPU is enough). Every step is a no-op when already satisfied; the
# slow one (building mmcv 2.1.0 with its compiled ops, 8 to 35 minutes on 2
# cores, with a progress line every minute) is skipped once `mmcv.ops`
# imports; its wheel is cached under ~/.cache/mmpose_attn/wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
pip_install() { "$PY" -m pip install --progress-bar off -c requirements/constraints.txt "$@"; }
step() { echo "[setup_env] $*"; }

step "build tools"
pip_install -r requirements/build.txt

step "torch + torchvision"
pip_install -r requirements/torch.txt

step "runtime dependencies"
pip_install -r requirements/runtime.txt

if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
  step "mmcv 2.1.0 with ops already installed"
else
  # No reachable wheel: build the sdist. torch 2.14's headers need C++20 while
  # mmcv 2.1.0's setup.py forces -std=c++17, so the flag is patched. The wheel
  # is kept under a cache key that includes the torch version (pip's own cache
  # is keyed by the sdist alone and would hand back a wheel built for another torch).
  torch_ver=$("$PY" -c "import torch; print(torch.__version__)")
  wheel_dir=${MMPOSE_ATTN_WHEEL_CACHE:-$HOME/.cache/mmpose_attn/wheels}/mmcv-2.1.0-torch-$torch_ver
  if ! ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    step "building mmcv 2.1.0 with CPU ops against torch $torch_ver (8 to 35 minutes on 2 cores, once; progress every minute)"
    if "$PY" -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
      step "  a GPU is visible: mmcv's ops are still built for the CPU only (no nvcc needed; README, GPU)"
    fi
    src=$(mktemp -d)
    "$PY" -m pip download --no-deps --no-binary :all: --no-build-isolation mmcv==2.1.0 -d "$src"
    tar xzf "$src"/mmcv-2.1.0.tar.gz -C "$src"
    sed -i "s/'-std=c++17'/'-std=c++20'/" "$src"/mmcv-2.1.0/setup.py
    mkdir -p "$wheel_dir"
    # mmcv's setup.py builds CUDA ops (nvcc, a matching CUDA toolkit, most of
    # an hour) when torch.cuda.is_available() or FORCE_CUDA=1, and ROCm/MLU/
    # MPS/NPU/DIOPI ops on their flags: hide the GPUs from the build and clear
    # the flags so every machine gets the same CPU build (torchvision's
    # kernels serve the GPU, see README).
    ops=("$src"/mmcv-2.1.0/mmcv/ops/csrc/pytorch/*.cpp "$src"/mmcv-2.1.0/mmcv/ops/csrc/pytorch/cpu/*.cpp)
    log="$src/build.log"
    CUDA_VISIBLE_DEVICES='' HIP_VISIBLE_DEVICES='' FORCE_CUDA=0 FORCE_MLU=0 FORCE_MPS=0 FORCE_NPU=0 \
      MMCV_WITH_DIOPI=0 MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      "$PY" -m pip wheel -v --no-build-isolation --no-deps \
      -c requirements/constraints.txt -w "$wheel_dir" "$src"/mmcv-2.1.0 >"$log" 2>&1 &
    build=$!
    started=$SECONDS
    while kill -0 "$build" 2>/dev/null; do
      for _ in $(seq 12); do kill -0 "$build" 2>/dev/null && sleep 5; done
      built=$(find "$src"/mmcv-2.1.0/build -name '*.o' 2>/dev/null | wc -l)
      elapsed=$((SECONDS - started))
      step "  mmcv build: $((elapsed / 60)) min $((elapsed % 60)) s, $built/${#ops[@]} ops compiled"
    done
    if ! wait "$build"; then
      tail -n 60 "$log"
      echo "[setup_env] building mmcv failed; full log: $log" >&2
      exit 1
    fi
    grep -q "Compiling mmcv._ext only with CPU" "$log" || {
      echo "[setup_env] mmcv did not build its CPU ops (log: $log)" >&2; exit 1; }
    step "  mmcv built in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s (CPU ops only)"
    rm -rf "$src"
  fi
  step "installing mmcv 2.1.0 from $wheel_dir"
  pip_install --no-deps --force-reinstall "$wheel_dir"/mmcv-2.1.0-*.whl
fi

# The xtcocotools wheel is built for numpy 1 (`numpy.dtype size changed` on
# import); the sdist builds against numpy 2 but its _mask.pyx reads
# np.NPY_OWNDATA, gone in numpy 2, so mask.decode (used by MMPose's bottom-up
# BottomupGetHeatmapMask) fails at run time: patch it to NPY_ARRAY_OWNDATA.
xtcoco_ok='from xtcocotools import coco, mask; import numpy as np
m = np.asfortranarray(np.ones((2, 2), np.uint8)); assert (mask.decode(mask.encode(m)) == m).all()'
if "$PY" -c "$xtcoco_ok" 2>/dev/null; then
  step "xtcocotools already works with numpy 2"
else
  step "building xtcocotools 1.14.3 against numpy 2"
  src=$(mktemp -d)
  "$PY" -m pip download --no-deps --no-binary :all: --no-build-isolation xtcocotools==1.14.3 -d "$src"
  tar xzf "$src"/xtcocotools-1.14.3.tar.gz -C "$src"
  sed -i 's/np\.NPY_OWNDATA/np.NPY_ARRAY_OWNDATA/' "$src"/xtcocotools-1.14.3/xtcocotools/_mask.pyx
  pip_install --no-build-isolation --no-deps --force-reinstall --no-cache-dir "$src"/xtcocotools-1.14.3
  rm -rf "$src"
  "$PY" -c "$xtcoco_ok"
fi

step "mmpose, mmdet, openmim (no deps: see requirements/runtime.txt)"
pip_install --no-deps -r requirements/mminstall.txt

step "test tools"
pip_install -r requirements/tests.txt

step "ONNX deployment: onnx, onnxruntime, onnxslim (the 'deploy' extra)"
pip_install -r requirements/deploy.txt

step "mmpose_attn (editable, egg-link style)"
# `mim train mmpose_attn` runs <dist location>/mmpose_attn/tools/train.py. A
# PEP 660 editable install records its location as site-packages, where no
# mmpose_attn/ folder exists; the legacy `setup.py develop` install records
# this checkout, so mim finds the tools (and configs) here.
pip_install --no-build-isolation --no-use-pep517 --no-deps -e .

"$PY" - <<'PY'
import mmcv, mmcv.ops, mmengine, mmpose, mmdet, numpy, torch, xtcocotools.coco  # noqa
import onnx, onnxruntime  # noqa: the deploy extra
import mmpose_attn  # noqa
from mmpose.visualization import PoseLocalVisualizer
# MMPose 1.3.2 draws keypoints with int(np.array([r])): numpy < 2.4 only
vis = PoseLocalVisualizer()
vis.set_image(numpy.zeros((9, 9, 3), numpy.uint8))
vis.draw_circles(numpy.array([4, 4]), radius=numpy.array([2]), face_colors=(255, 0, 0))
assert vis.get_image().any(), 'keypoint drawing drew nothing'
print(f'[setup_env] ok: torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmpose {mmpose.__version__}, mmdet {mmdet.__version__}, '
      f'numpy {numpy.__version__}')
PY
