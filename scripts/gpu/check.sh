#!/usr/bin/env bash
# The GPU check: what the project must show on a lent GPU machine (one H200
# with PyTorch 2.11 + CUDA 13.0 in /opt/torch/.venv, none of Debian's
# libraries), prepared here so that one command runs it there.
#
#   scripts/gpu/check.sh pack [--build-dir build-torch2]
#       here: builds the tool and the test binaries of the 2.11 build, strips
#       them, adds the Debian libraries they need that the GPU machine lacks
#       (scripts/gpu/pack_libs.py), and writes gpu_pack/deeplab-gpu.tar.xz
#       (git-ignored, so the device tool's `carry` takes it); prints its size.
#   scripts/gpu/check.sh run [--quick]
#       there: unpacks the pack, runs it on that machine's own torch libraries,
#       and writes each step's results under $OUT as soon as the step ends
#       ($OUT/report.md gathers the figures).
#   scripts/gpu/check.sh run --cpu --quick [--build-dir DIR]
#       here: the dry run of the same steps on the CPU at toy sizes, with the
#       pack (or with DIR's binaries where there is no pack).
#
# Steps: 1 versions; 2 the CUDA tests of the suite; 3 a short quickstart
# training on the GPU (loss, val mIoU, img/s); 4 deeplabv3_resnet50 training
# step at batch 8, crop 513, fp32 and fp16 AMP, and inference at 513x513,
# batch 1 and 16, ours against Python torchvision on the same device.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PACK_DIR="$ROOT/gpu_pack"
PACK="$PACK_DIR/deeplab-gpu.tar.xz"
TEST_BINARIES=(core/test_core models/test_models train/test_train experiment/test_experiment)
LIMIT_MIB=64

die() { echo "check.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- pack (here)
pack() {
  local build="$ROOT/build-torch2"
  while (($#)); do
    case "$1" in --build-dir) build=$(cd "$2" && pwd); shift 2 ;; *) die "pack: unknown argument '$1'" ;; esac
  done
  local targets=(deeplab)
  for t in "${TEST_BINARIES[@]}"; do targets+=("$(basename "$t")"); done
  cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${targets[@]}" >/dev/null
  local stage="$PACK_DIR/stage"
  rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib"
  cp "$build/deeplab" "$stage/bin/"
  for t in "${TEST_BINARIES[@]}"; do cp "$build/tests/$t" "$stage/bin/"; done
  strip --strip-unneeded "$stage"/bin/*
  python3 "$ROOT/scripts/gpu/pack_libs.py" --torch-lib "$(torch_lib "$build")" --out "$stage/lib" "$stage"/bin/*
  git -C "$ROOT" rev-parse HEAD > "$stage/commit.txt"
  tar -C "$stage" -cf - . | xz -T0 -9 > "$PACK.tmp" && mv "$PACK.tmp" "$PACK"
  rm -rf "$stage"
  local pack_mib tree_mib
  pack_mib=$(du -m "$PACK" | cut -f1)
  # What travels: the tracked files (the working tree) and the pack.
  tree_mib=$(git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 du -cb 2>/dev/null) | tail -1 | awk '{printf "%d", $1 / 1048576 + 1}')
  echo "pack: $PACK  $(du -h "$PACK" | cut -f1) (tracked files ~${tree_mib} MiB; limit ${LIMIT_MIB} MiB together)"
  ((pack_mib + tree_mib <= LIMIT_MIB)) || die "pack: ${pack_mib} + ${tree_mib} MiB exceeds the ${LIMIT_MIB} MiB the device tool carries"
}

# The LibTorch library directory a build linked against (its CMake cache).
torch_lib() {
  local dir
  dir=$(sed -n 's/^Torch_DIR:PATH=//p' "$1/CMakeCache.txt")
  [ -n "$dir" ] || die "no Torch_DIR in $1/CMakeCache.txt"
  (cd "$dir/../../../lib" && pwd)
}

# ---------------------------------------------------------------- run (there)
STEP_LOG="" FAILURES=() WORK_DIR=""
step() {  # step NAME: starts a step's log
  STEP_LOG="$OUT/$1.txt"
  echo "== $1" | tee -a "$OUT/report.md"
}
# A failed command is recorded and the check goes on: a GPU machine's minutes
# are scarce, so every later step still reports what it measured.
failed() { FAILURES+=("$1"); echo "FAILED: $1" | tee -a "$OUT/report.md"; }
record() { tee -a "$STEP_LOG"; }
figure() { echo "$*" | tee -a "$OUT/report.md"; }

run() {
  local cpu=0 quick=0 build=""
  while (($#)); do
    case "$1" in
      --cpu) cpu=1; shift ;;
      --quick) quick=1; shift ;;
      --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
      *) die "run: unknown argument '$1'" ;;
    esac
  done
  OUT=${OUT:-$ROOT/gpu_check_out}
  mkdir -p "$OUT"
  : > "$OUT/report.md"
  local device=cuda python=${PYTHON:-/opt/torch/.venv/bin/python}
  if ((cpu)); then
    device=cpu
    [ -x "$python" ] || python=$(oracle_python "${build:-$ROOT/build-torch2}")
  fi
  [ -x "$python" ] || die "run: no Python with torch at '$python' (set PYTHON)"
  # torch's libraries and the CUDA ones of the NVIDIA wheels beside it (our
  # binaries link libcudart and libnvrtc directly).
  local torchlib
  torchlib=$("$python" -c 'import glob, os, torch
site = os.path.dirname(os.path.dirname(torch.__file__))
print(":".join([os.path.join(site, "torch", "lib")] + sorted(glob.glob(os.path.join(site, "nvidia", "*", "lib")))))')

  local bin work
  WORK_DIR=$(mktemp -d) && work=$WORK_DIR
  trap 'rm -rf "$WORK_DIR"' EXIT
  if [ -f "$PACK" ] && [ -z "$build" ]; then
    tar -C "$work" -xJf "$PACK"
    bin="$work/bin"
    export LD_LIBRARY_PATH="$work/lib:$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    figure "pack of commit $(cat "$work/commit.txt"), run on $(hostname) with torch libraries from $torchlib"
  else
    [ -n "$build" ] || die "run: no pack at $PACK (scripts/gpu/check.sh pack) and no --build-dir"
    bin="$work/bin" && mkdir -p "$bin"
    ln -s "$build/deeplab" "$bin/deeplab"
    for t in "${TEST_BINARIES[@]}"; do [ -x "$build/tests/$t" ] && ln -s "$build/tests/$t" "$bin/"; done
    figure "binaries of $build, run on $(hostname)"
  fi
  export DEEPLAB_HOME="$ROOT" DEEPLAB_SOURCE_DIR="$ROOT" DEEPLAB_BINARY_DIR="$bin" DEEPLAB_ORACLE_PYTHON="$python"
  local deeplab="$bin/deeplab"

  step 01_versions
  "$deeplab" --version 2>&1 | record || failed "deeplab --version"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | record || failed nvidia-smi
  fi
  grep -E "^(LibTorch|CUDA|c10d)|, [0-9]+ MiB$" "$STEP_LOG" | tee -a "$OUT/report.md"

  step 02_cuda_tests
  local filter='Cuda*:AutocastScope.*:CudaDevice.*'
  local t
  for t in "$bin"/test_*; do
    [ -e "$t" ] || continue
    "$t" --gtest_filter="$filter" 2>&1 | record || failed "$(basename "$t") --gtest_filter=$filter"
  done
  figure "$(grep -cE '^\[       OK \]' "$STEP_LOG") passed, $(grep -cE '^\[  SKIPPED \]' "$STEP_LOG") skipped, $(grep -cE '^\[  FAILED  \]' "$STEP_LOG") failed (tests $filter)"
  grep -E '^\[  (SKIPPED|FAILED)  \]' "$STEP_LOG" | sort -u | tee -a "$OUT/report.md" || true

  step 03_quickstart
  local iters=1100 num=1000
  ((quick)) && iters=20 num=40
  local data="$work/synthetic_voc" run_dir="$work/quickstart"
  "$deeplab" data synth --layout voc --out "$data" --num "$num" --val-fraction 0.1 --size 128x128 --seed 0 2>&1 |
    record || failed "data synth"
  local start=$SECONDS
  "$deeplab" train -c "$ROOT/configs/quickstart/synthetic_voc.yaml" --work-dir "$run_dir" \
    --set data.root="$data" --set runtime.device="$device" --set train.max_iters="$iters" \
    --set train.eval_every="$iters" --set train.checkpoint_every="$iters" --set train.log_every=$((iters / 10)) \
    2>&1 | record || failed "quickstart training"
  figure "training: ${iters} iterations in $((SECONDS - start)) s on $device"
  "$python" - "$run_dir/metrics.jsonl" <<'PY' | tee -a "$OUT/report.md" || failed "quickstart metrics"
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
train = [r for r in rows if r["kind"] == "train"]
evals = [r for r in rows if r["kind"] == "eval"]
rates = [r["images_per_second"] for r in train[1:] or train]
miou = evals[-1]["mIoU"] if evals else float("nan")
miou = 100 * miou if miou <= 1 else miou  # a fraction or a percentage
print(f"loss {train[0]['loss']:.3f} -> {train[-1]['loss']:.3f}, {statistics.median(rates):.1f} img/s "
      f"(median of logged steps), val mIoU {miou:.2f} %")
PY

  step 04_bench
  local batch=8 crop=513 bench_iters=10 warmup=3 infer_batches=(1 16)
  ((quick)) && batch=2 crop=65 bench_iters=1 warmup=1 infer_batches=(1 2)  # BN needs 2 images to train
  local cfg="$ROOT/configs/torchvision/deeplabv3_resnet50.yaml" common=(--set runtime.device="$device" --set runtime.log_level=warn)
  local py_args=(--device "$device" --train-batch "$batch" --crop "$crop" --iters "$bench_iters" --warmup "$warmup")
  for b in "${infer_batches[@]}"; do py_args+=(--infer-batch "$b"); done
  "$python" "$ROOT/scripts/gpu/torchvision_bench.py" "${py_args[@]}" 2>&1 | record || failed "torchvision_bench.py"
  local amp=fp16
  ((cpu)) && amp=bf16
  for row in fp32 amp; do
    local extra=()
    [ "$row" = amp ] && extra=(--amp "$amp")
    "$deeplab" bench train -c "$cfg" --batch "$batch" --crop "${crop}x${crop}" --iters "$bench_iters" \
      --warmup "$warmup" "${common[@]}" "${extra[@]}" 2>&1 | sed "s/^/ours train $row: /" | record ||
      failed "bench train $row"
  done
  for b in "${infer_batches[@]}"; do
    "$deeplab" bench model -c "$cfg" --size "${crop}x${crop}" --batch "$b" --iters "$bench_iters" --warmup "$warmup" \
      --no-fold-bn --no-channels-last --amp none "${common[@]}" 2>&1 | sed "s/^/ours infer batch $b: /" | record ||
      failed "bench model batch $b"
  done
  "$python" "$ROOT/scripts/gpu/ratios.py" "$STEP_LOG" | tee -a "$OUT/report.md" || failed "ratios"
  if ((${#FAILURES[@]})); then
    die "${#FAILURES[@]} step(s) failed: ${FAILURES[*]} (logs in $OUT)"
  fi
  echo "check.sh: every step passed; report in $OUT/report.md"
}

oracle_python() {
  sed -n 's/^DEEPLAB_ORACLE_PYTHON:FILEPATH=//p' "$1/CMakeCache.txt"
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  *) die "usage: scripts/gpu/check.sh pack [--build-dir DIR] | run [--cpu] [--quick] [--build-dir DIR]" ;;
esac
