#!/usr/bin/env bash
# The main job end to end on a fresh machine: install + build, generate the
# embedded demo dataset, train DeepLabv3+ (MobileNet-V2) from scratch,
# evaluate it, predict a few photos, and export it to TorchScript.  Re-running reuses the dataset
# (unless its synth.yaml is stale) and starts a fresh training run.
#   scripts/quickstart.sh              semantic: synthetic VOC layout, mIoU
#   scripts/quickstart.sh --panoptic   Panoptic-DeepLab: synthetic Cityscapes layout, PQ + mIoU
#   scripts/quickstart.sh --kmax       kMaX-DeepLab on the same data and budget, PQ + mIoU
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-semantic}

stamp() { date +%s; }
t0=$(stamp)
BUILD_TARGET=deeplab scripts/setup.sh   # the tool only; scripts/test.sh builds the tests
t_setup=$(( $(stamp) - t0 ))

if [ "$MODE" = "--panoptic" ] || [ "$MODE" = "--kmax" ]; then
  CONFIG=configs/quickstart/synthetic_cityscapes_panoptic.yaml
  WORK=work_dirs/quickstart_panoptic
  if [ "$MODE" = "--kmax" ]; then
    CONFIG=configs/quickstart/synthetic_cityscapes_kmax.yaml
    WORK=work_dirs/quickstart_kmax
  fi
  DATA=datasets/data/synthetic_cityscapes
  SYNTH=(--layout cityscapes --num 600 --val-fraction 0.1 --size 128x256)
  BEST="best val PQ"
elif [ "$MODE" = semantic ]; then
  CONFIG=configs/quickstart/synthetic_voc.yaml
  DATA=datasets/data/synthetic_voc
  WORK=work_dirs/quickstart
  SYNTH=(--layout voc --num 1000 --val-fraction 0.1 --size 128x128)
  BEST="best val mIoU"
else
  echo "quickstart: unknown mode '$MODE' (expected --panoptic or --kmax, or nothing)" >&2; exit 2
fi
build/deeplab --version

t1=$(stamp)
echo "== synthetic dataset in $DATA (regenerated only when the generator or options changed)"
build/deeplab data synth "${SYNTH[@]}" --out "$DATA" --seed 0
t_data=$(( $(stamp) - t1 ))

echo "== training ($CONFIG)"
rm -rf "$WORK"
t2=$(stamp)
build/deeplab train -c "$CONFIG" --work-dir "$WORK"
t_train=$(( $(stamp) - t2 ))

echo "== evaluating the best weights on val"
t3=$(stamp)
build/deeplab eval -c "$CONFIG" --weights "$WORK/best.pth" --json "$WORK/eval.json" --save-vis "$WORK/vis"
t_eval=$(( $(stamp) - t3 ))

if [ "$MODE" = semantic ]; then  # predict takes panoptic configs too; those runs show PQ instead
  echo "== predicting four val photos (label PNG, colour mask, overlay) into $WORK/predict"
  mapfile -t PHOTOS < <(head -n 4 "$DATA/ImageSets/Segmentation/val.txt" | sed "s|.*|$DATA/JPEGImages/&.jpg|")
  build/deeplab predict -c "$CONFIG" --weights "$WORK/best.pth" "${PHOTOS[@]}" --out "$WORK/predict" --overlay --no-progress
fi

echo "== exporting to TorchScript"
build/deeplab export -c "$CONFIG" --weights "$WORK/best.pth" -o "$WORK/model.pt"

cat <<SUMMARY

quickstart done: set-up/build ${t_setup} s, data ${t_data} s, training ${t_train} s, evaluation ${t_eval} s
  weights      $WORK/best.pth ($BEST), $WORK/final.pth
  TorchScript  $WORK/model.pt  (Python: torch.jit.load; C++: torch::jit::load)
  curves       $WORK/curves.png
  samples      $WORK/val_samples.png, $WORK/vis/, $WORK/predict/ (semantic)
  scores       $WORK/eval.json, $WORK/metrics.jsonl
SUMMARY
