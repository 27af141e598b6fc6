#!/usr/bin/env bash
# Metrics timing on Cityscapes-sized images (1024x2048): generates N synthetic
# Cityscapes-like image triples (labelIds, 16-bit instanceIds, prediction) with
# /usr/bin/python3 (numpy + PIL), then times `deeplab eval-semantic` in
# Cityscapes mode (PNG decode of 3 files + confusion matrix + iIoU) and in
# generic mode, on one thread, and prints milliseconds per image.
# Usage: scripts/bench/metrics_bench.sh [N=20] [BUILD_DIR=build]
set -euo pipefail
N=${1:-20}
BUILD_DIR=${BUILD_DIR:-build}
DEEPLAB=${DEEPLAB:-$BUILD_DIR/deeplab}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

/usr/bin/python3 - "$WORK" "$N" <<'PY'
import os, sys
import numpy as np
from PIL import Image
work, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
h, w = 1024, 2048
stuff = np.array([7, 8, 11, 17, 21, 23, 0, 4])
things = np.array([24, 25, 26, 27, 28, 33])
os.makedirs(f"{work}/gtFine/val/city", exist_ok=True)
os.makedirs(f"{work}/pred", exist_ok=True)
os.makedirs(f"{work}/generic/gt", exist_ok=True)
os.makedirs(f"{work}/generic/pred", exist_ok=True)
lut = np.full(256, 255, np.uint8)
for i, t in zip([7, 8, 11, 17, 21, 23, 24, 25, 26, 27, 28, 33], [0, 1, 2, 5, 8, 10, 11, 12, 13, 14, 15, 18]):
    lut[i] = t
for k in range(n):
    # Regions of 64x64 blocks with a few dozen instances, like a street scene's label layout.
    blocks = rng.choice(stuff, size=(h // 64, w // 64))
    labels = np.kron(blocks, np.ones((64, 64), np.int64))
    inst = labels.copy()
    for j in range(40):
        y, x = rng.integers(0, h - 96), rng.integers(0, w - 128)
        c = int(rng.choice(things))
        labels[y:y + 96, x:x + 128] = c
        inst[y:y + 96, x:x + 128] = c * 1000 + j
    pred = labels.copy()
    noise = rng.random((h, w)) < 0.05
    pred[noise] = rng.choice(np.concatenate([stuff, things]), size=int(noise.sum()))
    stem = f"city_{k:06d}_000019"
    Image.fromarray(labels.astype(np.uint8)).save(f"{work}/gtFine/val/city/{stem}_gtFine_labelIds.png")
    Image.fromarray(inst.astype(np.int32)).convert("I;16").save(f"{work}/gtFine/val/city/{stem}_gtFine_instanceIds.png")
    Image.fromarray(pred.astype(np.uint8)).save(f"{work}/pred/{stem}_pred.png")
    Image.fromarray(lut[labels]).save(f"{work}/generic/gt/{stem}.png")
    # Predictions never hold the ignore value: ignored classes predicted as class 0.
    Image.fromarray(np.where(lut[pred] == 255, 0, lut[pred]).astype(np.uint8)).save(f"{work}/generic/pred/{stem}.png")
PY

time_ms() {  # prints wall milliseconds of the command
  local start end
  start=$(date +%s%N)
  "$@" > /dev/null || { echo "failed: $*" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

ms=$(time_ms "$DEEPLAB" eval-semantic --gt "$WORK/gtFine" --pred "$WORK/pred" --label-map cityscapes-ids --threads 1)
echo "cityscapes-ids mode: $N images of 1024x2048 in ${ms} ms -> $(( ms / N )) ms/image (1 thread; 3 PNG decodes + IoU + iIoU)"
ms=$(time_ms "$DEEPLAB" eval-semantic --gt "$WORK/generic/gt" --pred "$WORK/generic/pred" --num-classes 19 --threads 1)
echo "generic mode (19 classes): $N images of 1024x2048 in ${ms} ms -> $(( ms / N )) ms/image (1 thread; 2 PNG decodes + IoU)"
