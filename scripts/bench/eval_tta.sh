#!/usr/bin/env bash
# `deeplab eval` timing: single-scale whole image, multi-scale (0.5..1.75) +
# flip, and sliding window, on a synthetic VOC-layout val split, with a
# ResNet-50 DeepLabv3 at output stride 16 (the quickstart's backbone and
# stride; torchvision head, seeded random weights written by /usr/bin/python3
# + torchvision and converted by `deeplab import`).  Random weights make the
# mIoU meaningless: this measures time only.  Prints threads, BLAS and, per
# mode, forward passes, seconds and images/s from the result JSON.
# Usage: scripts/bench/eval_tta.sh [NUM_VAL_IMAGES=8] [SIZE=257x257]   (BUILD_DIR=build, THREADS=0: all cores)
set -euo pipefail
NUM=${1:-8}
SIZE=${2:-257x257}
BUILD_DIR=${BUILD_DIR:-build}
THREADS=${THREADS:-0}
DEEPLAB=${DEEPLAB:-$BUILD_DIR/deeplab}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$DEEPLAB" --version | grep -Ei 'blas|thread' || true
"$DEEPLAB" data synth --layout voc --out "$WORK/voc" --num $((NUM * 2)) --val-fraction 0.5 --size "$SIZE" --seed 1 >/dev/null
/usr/bin/python3 - "$WORK/tv.pth" <<'PY'
import sys, torch
from torchvision.models import segmentation
torch.manual_seed(0)
m = segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
torch.save(m.state_dict(), sys.argv[1])
PY
"$DEEPLAB" import --from torchvision --arch deeplabv3_resnet50 "$WORK/tv.pth" "$WORK/w.pth" >/dev/null

common=(-c "$ROOT/configs/torchvision/deeplabv3_resnet50.yaml" --weights "$WORK/w.pth" --no-progress
        --set model.aux_loss=false --set model.backbone.output_stride=16 --set "data.root=$WORK/voc"
        --set data.workers=1 --set "runtime.threads=$THREADS")
run() {
  local name=$1; shift
  "$DEEPLAB" --log-level warn eval "${common[@]}" --json "$WORK/$name.json" "$@" >/dev/null
  /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f'{sys.argv[2]:<28} {r[\"images\"]:>4} images {r[\"forward_passes\"]:>5} passes {r[\"seconds\"]:8.2f} s {r[\"images_per_second\"]:7.2f} img/s')" "$WORK/$name.json" "$name"
}
echo "deeplabv3 resnet50 os16, $NUM images of $SIZE, runtime.threads=$THREADS"
run single-scale
run multi-scale+flip --set "eval.scales=[0.5,0.75,1.0,1.25,1.5,1.75]" --set eval.flip=true
run slide-129-overlap-0.33 --set eval.mode=slide --set "eval.window=[129,129]"
