#!/usr/bin/env bash
# Sets up (install + build), then runs the whole test suite with ctest.
# Exits non-zero when anything fails.
#   scripts/test.sh                 # Debian's LibTorch 1.13 in build/
#   scripts/test.sh --torch pip     # PyTorch 2.11's LibTorch in build-torch2/ (CUDA tests skip without a GPU)
# Other arguments go to ctest (e.g. -R Parity).
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_ARGS=()
if [ "${1:-}" = "--torch" ]; then
  SETUP_ARGS=(--torch "${2:?--torch needs debian or pip}"); shift 2
fi
scripts/setup.sh "${SETUP_ARGS[@]}"
if [ "${SETUP_ARGS[1]:-debian}" = pip ]; then BUILD_DIR=${BUILD_DIR:-build-torch2}; else BUILD_DIR=${BUILD_DIR:-build}; fi
start=$(date +%s)
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
echo "test: suite passed in $(( $(date +%s) - start )) s ($BUILD_DIR)"
