#!/usr/bin/env bash
# The installed library works for an outside application: install BUILD_DIR
# into a temporary prefix, build examples/segment_image against it as its own
# CMake project (find_package(DeepLab) only), train and export a tiny model
# with the installed tool, segment the real VOC photo with the example, and
# check that its labels equal `deeplab predict`'s on the same export.
#   scripts/check_package.sh BUILD_DIR [SAMPLES_DIR]
# Exits 77 (ctest: skipped) when the samples are absent.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR [SAMPLES_DIR]}" && pwd)
samples=${2:-${DEEPLAB_SAMPLES:-$source_dir/../shared/samples}}
photo=$samples/voc2012/JPEGImages/2007_000063.jpg
if [ ! -f "$photo" ]; then
  echo "package: skipped, no VOC sample at $photo (set DEEPLAB_SAMPLES)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step() { echo "package: $*"; }

step "install to $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/deeplab/segmenter.h include/deeplab/training.h include/deeplab/version.h \
         lib/cmake/DeepLab/DeepLabConfig.cmake lib/cmake/DeepLab/DeepLabConfigVersion.cmake; do
  [ -f "$tmp/prefix/$f" ] || { echo "package: $f was not installed"; exit 1; }
done
# The public headers stand alone: nothing of the library's internals.
if grep -n '#include "deeplab/' "$tmp/prefix/include/deeplab/"*.h; then
  echo "package: a public header includes an internal one"; exit 1
fi

step "build examples/segment_image against the prefix"
cmake -S "$source_dir/examples/segment_image" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/example" -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }

step "an application that brings another LibTorch is refused by name"
mkdir -p "$tmp/other_torch"
cat >"$tmp/other_torch/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(other_torch LANGUAGES CXX)
set(Torch_FOUND TRUE)
set(Torch_DIR /opt/another/libtorch/share/cmake/Torch)
set(Torch_VERSION 9.9.9)
find_package(DeepLab REQUIRED)
CMAKE
if cmake -S "$tmp/other_torch" -B "$tmp/other_torch/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/other.log" 2>&1; then
  echo "package: a project with another LibTorch configured"; exit 1
fi
# CMake wraps messages: compare with the lines joined.
tr -s ' \n' ' ' <"$tmp/other.log" | grep -q "found LibTorch 9.9.9 (/opt/another/libtorch/share/cmake/Torch)" ||
  { echo "package: the refusal does not name the other LibTorch:"; cat "$tmp/other.log"; exit 1; }

step "train and export a tiny model"
deeplab="$tmp/prefix/bin/deeplab"
config="$tmp/prefix/share/deeplab/configs/quickstart/synthetic_voc.yaml"
"$deeplab" data synth --layout voc --out "$tmp/voc" --num 8 --size 64x64 --seed 3 >/dev/null
"$deeplab" train -c "$config" --work-dir "$tmp/run" --set data.root="$tmp/voc" --set train.max_iters=4 \
  --set data.batch_size=2 --set 'data.crop_size=[64,64]' --set train.checkpoint_every=4 --set train.log_every=2 \
  --set runtime.threads=2 >"$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; exit 1; }
"$deeplab" export -c "$config" --set data.root="$tmp/voc" --weights "$tmp/run/final.pth" -o "$tmp/model.pt" \
  --input-size 64 64 >/dev/null

step "segment the VOC photo with the example and with deeplab predict"
mkdir -p "$tmp/example_labels"
"$tmp/example/segment_image" "$tmp/model.pt" "$photo" "$tmp/overlay.png" "$tmp/example_labels/2007_000063.png"
[ -s "$tmp/overlay.png" ] || { echo "package: the example wrote no overlay"; exit 1; }
"$deeplab" predict --model "$tmp/model.pt" "$photo" --out "$tmp/predict" --no-color --no-progress >/dev/null
"$deeplab" eval-semantic --gt "$tmp/predict" --pred "$tmp/example_labels" --num-classes 7 \
  --json "$tmp/agree.json" >/dev/null
if ! grep -Eq '"pixel_accuracy": 1(\.0+)?(,|$)' "$tmp/agree.json"; then
  echo "package: the example's labels differ from deeplab predict's:"
  cat "$tmp/agree.json"
  exit 1
fi
step "ok (the example's labels equal deeplab predict's on the VOC photo)"
