#!/usr/bin/env bash
# Installs what is missing (Debian packages only; nothing is downloaded from
# elsewhere), then configures and builds the project in build/ (Release).
# Idempotent: a second run installs nothing and rebuilds only what changed.
#
#   scripts/setup.sh                  # Debian's LibTorch, everything (library, tool, tests)
#   BUILD_TARGET=deeplab scripts/setup.sh   # only the `deeplab` tool (what the quickstart needs)
#   CMAKE_PREFIX_PATH=/opt/libtorch scripts/setup.sh   # an official (CUDA) LibTorch
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ccache pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libgloo-dev             # headers c10d's ProcessGroupGloo.hpp needs
  libopenblas0-pthread    # without it torch uses the reference BLAS (~40x slower GEMM)
  libopencv-dev libpng-dev
  libyaml-cpp-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libmatio-dev
  python3-torchvision python3-scipy   # test oracle only (run as /usr/bin/python3)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${LAUNCHER[@]}" ${CMAKE_ARGS:-} >/dev/null
TARGET_ARGS=()
[ -n "${BUILD_TARGET:-}" ] && TARGET_ARGS=(--target "$BUILD_TARGET")
cmake --build "$BUILD_DIR" -j "$JOBS" "${TARGET_ARGS[@]}"
echo "setup: built $BUILD_DIR/deeplab${BUILD_TARGET:+ (target $BUILD_TARGET only)}"
