#!/usr/bin/env bash
# The main job end to end on a fresh machine: install, build, then show the
# toolchain and the experiment config the quickstart trains.
# (Later stages -- synthetic dataset, training, evaluation, export -- are
# appended here as they land.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
CONFIG=configs/quickstart/synthetic_voc.yaml
echo "== toolchain"
build/deeplab --version
echo "== experiment config ($CONFIG)"
build/deeplab config print -c "$CONFIG"
