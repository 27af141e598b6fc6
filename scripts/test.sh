#!/usr/bin/env bash
# Sets up (install + build), then runs the whole test suite with ctest.
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
start=$(date +%s)
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
echo "test: suite passed in $(( $(date +%s) - start )) s"
