#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; fuzz/CMakeLists.txt) in
# build-fuzz/ and runs each for SECONDS (default 600), starting from the seed
# corpora in fuzz/corpus/<target>.  Prints executions, coverage and findings
# per target (also in build-fuzz/fuzz_report.md); exits 1 when any target
# crashed, with the crashing inputs in build-fuzz/crashes/<target>/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     # targets: png_label image video pth
#                                               #   safetensors config coco_panoptic_json meta_json
#   FUZZ_JOBS=2 scripts/fuzz.sh 600             # two targets at a time
#   scripts/fuzz.sh --no-build 60 pth           # the targets as last built
#
# A crash gets a fix, and its input goes to fuzz/regressions/<target>/, where
# the test suite replays it (tests/fuzz/fuzz_replay_test.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_FIRST=1
[ "${1:-}" = --no-build ] && { BUILD_FIRST=0; shift; }
SECONDS_EACH=${1:-600}
shift || true
ALL_TARGETS=(png_label image video pth safetensors config coco_panoptic_json meta_json)
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=("${ALL_TARGETS[@]}")
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
command -v clang++ >/dev/null || { echo "fuzz: needs clang++ and libclang-rt-dev (apt-get install clang libclang-rt-dev)" >&2; exit 1; }

if ((BUILD_FIRST)); then
  scripts/setup.sh   # the normal build: the fuzz targets link its libraries for what is not parsing
  LAUNCHER=()
  command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDEEPLAB_FUZZ=ON -DDEEPLAB_BUILD_TESTS=OFF "${LAUNCHER[@]}" >/dev/null
  cmake --build "$BUILD" --target deeplab_fuzzers -j "${JOBS:-$(nproc)}"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENCV_LOG_LEVEL=OFF OPENCV_FFMPEG_LOGLEVEL=-8 OMP_NUM_THREADS=1

run_target() {
  local target=$1 work="$BUILD/corpus/$1" crashes="$BUILD/crashes/$1" log="$BUILD/logs/$1.log"
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  echo "fuzz: $target for ${SECONDS_EACH} s"
  # -timeout: one input taking 25 s is a hang; -rss_limit_mb: a parser that
  # believes a header's size and allocates gigabytes is a finding.
  # FFmpeg's decoders, loaded by OpenCV as plugins, leak per opened file in
  # modules LeakSanitizer cannot name: leaks are not checked for videos.
  local leaks=1
  [ "$target" = video ] && leaks=0
  ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=$leaks" "$BUILD/fuzz/fuzz_$target" -detect_leaks=$leaks -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=25 \
    -rss_limit_mb=2048 -artifact_prefix="$crashes/" "$work" "fuzz/corpus/$target" >"$log" 2>&1 || true
}

export -f run_target
export BUILD SECONDS_EACH
printf '%s\n' "${TARGETS[@]}" | xargs -P "${FUZZ_JOBS:-1}" -I{} bash -c 'run_target {}'

report="$BUILD/fuzz_report.md"
{
  echo "| target | seconds | executions | exec/s | coverage (edges) | features | corpus | crashes |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$report"
failed=0
for target in "${TARGETS[@]}"; do
  log="$BUILD/logs/$target.log"
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  rate=$(grep -o 'average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  crashes=$(find "$BUILD/crashes/$target" -type f | wc -l)
  echo "| $target | $SECONDS_EACH | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes |" >>"$report"
  if ((crashes)) || ! grep -q 'stat::number_of_executed_units' "$log"; then
    failed=1
    echo "fuzz: $target FAILED; log $log; inputs in $BUILD/crashes/$target/" >&2
    grep -m3 -E 'ERROR: |runtime error:|uncaught exception|deadly signal' "$log" >&2 || true
  fi
done
cat "$report"
exit $failed
