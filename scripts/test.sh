#!/usr/bin/env bash
# Sets up (install + build), then runs the whole test suite with ctest.
# Exits non-zero when anything fails.
#   scripts/test.sh                 # Debian's LibTorch 1.13 in build/
#   scripts/test.sh --torch pip     # PyTorch 2.11's LibTorch in build-torch2/ (CUDA tests skip without a GPU)
#   scripts/test.sh --sanitize      # LibTorch 1.13, everything built with ASan + UBSan in build-asan/
# Other arguments go to ctest (e.g. -R Parity).
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_ARGS=()
if [ "${1:-}" = "--torch" ]; then
  SETUP_ARGS=(--torch "${2:?--torch needs debian or pip}"); shift 2
fi
if [ "${1:-}" = "--sanitize" ]; then
  shift
  export BUILD_DIR=${BUILD_DIR:-build-asan}
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DDEEPLAB_SANITIZE=ON"
  # Leaks are left to the fuzzers (scripts/fuzz.sh): LibTorch's and OpenMP's
  # process-lifetime allocations would bury the project's own here.  Any
  # ASan or UBSan report ends the process, so the test that caused it fails.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
scripts/setup.sh "${SETUP_ARGS[@]}"
if [ "${SETUP_ARGS[1]:-debian}" = pip ]; then BUILD_DIR=${BUILD_DIR:-build-torch2}; else BUILD_DIR=${BUILD_DIR:-build}; fi
start=$(date +%s)
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
echo "test: suite passed in $(( $(date +%s) - start )) s ($BUILD_DIR)"
