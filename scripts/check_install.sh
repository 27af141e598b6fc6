#!/usr/bin/env bash
# An installed (or moved) `deeplab` finds its configs and dataset descriptors
# by itself: install into a temporary prefix, then use it from / with no
# DEEPLAB_HOME and no source tree on any path it is given.
#   scripts/check_install.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
unset DEEPLAB_HOME DEEPLAB_SOURCE_DIR
cd /
"$tmp/prefix/bin/deeplab" data synth --layout voc --out "$tmp/voc" --num 4 --size 32x32 --seed 1 >/dev/null
# The quickstart config names datasets/synthetic_voc.yaml: found under share/deeplab.
out=$("$tmp/prefix/bin/deeplab" data stats -c "$tmp/prefix/share/deeplab/configs/quickstart/synthetic_voc.yaml" \
        --set data.root="$tmp/voc" --set data.workers=0)
echo "$out" | grep -q "ellipse" || { echo "install: descriptor classes missing in:"; echo "$out"; exit 1; }
echo "install: ok ($tmp/prefix/bin/deeplab found share/deeplab/datasets/synthetic_voc.yaml)"
