#!/usr/bin/env bash
# Data-parallel throughput on this machine, quickstart config (DeepLabv3+
# MobileNet-V2, 128x128 crops, global batch 8), CPU, Gloo over loopback:
#   A: 1 process  x 2 threads, batch 8
#   B: 2 processes x 1 thread, batch 4 each, all-reduce overlapped with backward
#   C: the same as B with the overlap off (every bucket after backward)
# Prints images/s of each, the all-reduce time per step and its share of the
# step (C: none of it hidden), and how much of it the overlap hid (1 - B/C).
# Figures are averages over the logged windows after the first (warm-up).
# Usage: scripts/bench/dist.sh [ITERS=40] [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERS=${1:-40}
DEEPLAB=${DEEPLAB:-${BUILD_DIR:-build}/deeplab}
CONFIG=configs/quickstart/synthetic_voc.yaml
DATA=datasets/data/synthetic_voc
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$DEEPLAB" data synth --layout voc --out "$DATA" --num 1000 --val-fraction 0.1 --size 128x128 --seed 0 > /dev/null
COMMON="--set train.max_iters=$ITERS --set train.log_every=10 --set train.eval_every=0 --set train.checkpoint_every=100000 \
  --set train.vis_samples=0 --set runtime.log_level=warn"
PORT=$(( 20000 + RANDOM % 20000 ))

echo "== A: 1 process x 2 threads, batch 8"
"$DEEPLAB" train -c "$CONFIG" --work-dir "$WORK/a" $COMMON --set runtime.threads=2 --set data.batch_size=8 > /dev/null
echo "== B: 2 processes x 1 thread, batch 4 each (overlap on)"
"$DEEPLAB" launch --nproc-per-node 2 --master-port $PORT -- train -c "$CONFIG" --work-dir "$WORK/b" $COMMON \
  --set runtime.threads=1 --set data.batch_size=4 > /dev/null
echo "== C: 2 processes x 1 thread, batch 4 each (overlap off)"
"$DEEPLAB" launch --nproc-per-node 2 --master-port $((PORT + 1)) -- train -c "$CONFIG" --work-dir "$WORK/c" $COMMON \
  --set runtime.threads=1 --set data.batch_size=4 --set runtime.dist_overlap=false > /dev/null

BLAS=$("$DEEPLAB" --version | sed -n 's/^BLAS: //p')
/usr/bin/python3 - "$WORK" "$BLAS" <<'PY'
import json, sys
work, blas = sys.argv[1], sys.argv[2]
def windows(run):
    rows = [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl")]
    rows = [r for r in rows if r["kind"] == "train"][1:]  # the first window warms up
    return rows
def mean(rows, key):
    return sum(r[key] for r in rows) / len(rows)
a, b, c = windows("a"), windows("b"), windows("c")
ips = {k: mean(v, "images_per_second") for k, v in (("a", a), ("b", b), ("c", c))}
wait_b, wait_c = mean(b, "allreduce_wait_seconds"), mean(c, "allreduce_wait_seconds")
step_b, step_c = mean(b, "step_seconds"), mean(c, "step_seconds")
print(f"threads: A 2 intra-op; B, C 1 per process; BLAS: {blas}")
print(f"A 1x2 threads      : {ips['a']:6.2f} images/s")
print(f"B 2x1 (overlap on) : {ips['b']:6.2f} images/s  ({ips['b'] / ips['a']:.2f}x A); all-reduce wait "
      f"{1000 * wait_b:.1f} ms of a {1000 * step_b:.0f} ms step ({100 * wait_b / step_b:.1f} %), "
      f"{100 * mean(b, 'buckets_launched_in_backward'):.0f} % of buckets launched during backward")
print(f"C 2x1 (overlap off): {ips['c']:6.2f} images/s; all-reduce {1000 * wait_c:.1f} ms of a "
      f"{1000 * step_c:.0f} ms step ({100 * wait_c / step_c:.1f} %)")
print(f"overlap hid {100 * (1 - wait_b / wait_c):.0f} % of the all-reduce time")
PY
