#!/usr/bin/env bash
# Runs the tests whose preconditions depend on training (a model must learn
# enough for the comparison to mean something) under several seeds, thread
# counts and oneDNN instruction sets, and prints each margin: Overfit's steps
# used of its budget, PanopticCli's true positives, SyncBn's float32 drift.
# Other CPUs pick other kernels; a capped ISA makes this one pick them too.
#
#   scripts/check_training_margins.sh [BUILD_DIR]
#   SEEDS="0 1 2" THREADS="1 2" ISAS="native AVX2 SSE41" scripts/check_training_margins.sh
#
# Exits 1 when any run fails.  Not part of the suite (it takes ~1 h).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SEEDS=${SEEDS:-0 1 2}
THREADS=${THREADS:-1 2}
ISAS=${ISAS:-native AVX2 SSE41}
FILTER_TRAIN=${FILTER_TRAIN-EveryArch/Overfit.*:Distributed.SyncBnTwoByTwoTrainsAsBnOneByFour}
FILTER_EVAL=${FILTER_EVAL-PanopticCli.SavedPredictionsScoreTheSamePqWithEvalPanopticAndAnIndependentOracle}
failed=0
for isa in $ISAS; do
  for threads in $THREADS; do
    for seed in $SEEDS; do
      env=(DEEPLAB_TEST_SEED="$seed" DEEPLAB_TEST_THREADS="$threads")
      [ "$isa" != native ] && env+=(ONEDNN_MAX_CPU_ISA="$isa" DNNL_MAX_CPU_ISA="$isa")
      for run in "tests/train/test_train --gtest_filter=$FILTER_TRAIN" "tests/eval/test_eval --gtest_filter=$FILTER_EVAL"; do
        read -r binary filter <<<"$run"
        [ "$filter" = "--gtest_filter=" ] && continue
        out=$(env "${env[@]}" "$BUILD/$binary" "$filter" 2>&1)
        code=$?
        while read -r line; do
          echo "isa=$isa threads=$threads seed=$seed | $line"
        done < <(grep -E '^margin |float32 sync_bn|^\[  FAILED  \]' <<<"$out")
        if [ $code -ne 0 ]; then
          failed=1
          echo "isa=$isa threads=$threads seed=$seed | FAILED: $binary $filter"
        fi
      done
    done
  done
done
exit $failed
