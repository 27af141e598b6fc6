#!/usr/bin/env bash
# Installs what is missing, then configures and builds the project (Release).
# Idempotent: a second run installs nothing and rebuilds only what changed.
#
#   scripts/setup.sh                  # Debian's LibTorch 1.13 (CPU) in build/: everything
#   scripts/setup.sh --torch pip      # PyTorch 2.11's LibTorch (CUDA 13.0, NCCL) in build-torch2/
#   BUILD_TARGET=deeplab scripts/setup.sh   # only the `deeplab` tool (what the quickstart needs)
#   CMAKE_ARGS=-DCMAKE_PREFIX_PATH=/opt/libtorch BUILD_DIR=build-libtorch scripts/setup.sh
#                                     # an official LibTorch zip unpacked in /opt/libtorch
#
# --torch pip makes a venv outside the clone, keyed by the hash of
# scripts/requirements-torch2.txt (torch, torchvision, numpy, scipy, pillow
# from PyPI), so that later builds and CI reuse the download; that venv is
# also the build's parity oracle.  scripts/torch_env.sh prints its paths.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH=debian
while (($#)); do
  case "$1" in
    --torch) TORCH=${2:?--torch needs debian or pip}; shift 2 ;;
    --torch=*) TORCH=${1#--torch=}; shift ;;
    *) echo "setup: unknown argument '$1' (expected --torch debian|pip)" >&2; exit 2 ;;
  esac
done
case "$TORCH" in debian|pip) ;; *) echo "setup: --torch '$TORCH': expected debian or pip" >&2; exit 2 ;; esac

PACKAGES=(
  build-essential cmake ccache pkg-config
  libgloo-dev             # headers c10d's ProcessGroupGloo.hpp needs
  libopencv-dev libpng-dev
  libyaml-cpp-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libmatio-dev
  clang-format            # the style check (scripts/check_format.sh)
  python3-venv            # the checking tools' venv (tensorboard, onnxruntime) below
)
if [ "$TORCH" = debian ]; then
  PACKAGES+=(
    libtorch-dev            # LibTorch 1.13 (CPU)
    libopenblas0-pthread    # without it torch uses the reference BLAS (~40x slower GEMM)
    python3-torchvision python3-scipy   # test oracle only (run as /usr/bin/python3)
  )
fi

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

EXTRA_CMAKE=()
if [ "$TORCH" = pip ]; then
  # shellcheck source=scripts/torch_env.sh
  source scripts/torch_env.sh
  if [ ! -f "$TORCH2_VENV/.complete" ]; then
    echo "setup: making $TORCH2_VENV (PyPI torch; several GB, once per requirements hash)"
    rm -rf "$TORCH2_VENV"
    mkdir -p "$(dirname "$TORCH2_VENV")"
    "${PYTHON:-python3}" -m venv "$TORCH2_VENV"
    "$TORCH2_VENV/bin/pip" install -q -r scripts/requirements-torch2.txt
    touch "$TORCH2_VENV/.complete"
  fi
  prefix=$("$TORCH2_VENV/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] ||
    { echo "setup: --torch pip needs the CUDA toolkit (nvcc) for LibTorch's CMake config" >&2; exit 1; }
  export PATH="$PATH:/usr/local/cuda/bin"
  EXTRA_CMAKE=(-DCMAKE_PREFIX_PATH="$prefix" -DDEEPLAB_ORACLE_PYTHON="$TORCH2_VENV/bin/python")
  BUILD_DIR=${BUILD_DIR:-build-torch2}
fi

# The checking tools the tests read our TensorBoard and ONNX files with
# (never a run-time dependency); a full build only, and best effort: without
# PyPI those tests skip and say so.
if [ -z "${BUILD_TARGET:-}" ]; then
  # shellcheck source=scripts/tools_env.sh
  source scripts/tools_env.sh
  if [ ! -f "$TOOLS_VENV/.complete" ]; then
    echo "setup: making $TOOLS_VENV (tensorboard, onnx, onnxruntime from PyPI)"
    rm -rf "$TOOLS_VENV"
    mkdir -p "$(dirname "$TOOLS_VENV")"
    if "${PYTHON:-python3}" -m venv "$TOOLS_VENV" && "$TOOLS_VENV/bin/pip" install -q -r scripts/requirements-tools.txt; then
      touch "$TOOLS_VENV/.complete"
    else
      echo "setup: could not install scripts/requirements-tools.txt; the TensorBoard and ONNX checks will skip" >&2
      rm -rf "$TOOLS_VENV"
    fi
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of words on purpose
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${LAUNCHER[@]}" "${EXTRA_CMAKE[@]}" ${CMAKE_ARGS:-} >/dev/null
TARGET_ARGS=()
[ -n "${BUILD_TARGET:-}" ] && TARGET_ARGS=(--target "$BUILD_TARGET")
cmake --build "$BUILD_DIR" -j "$JOBS" "${TARGET_ARGS[@]}"
echo "setup: built $BUILD_DIR/deeplab${BUILD_TARGET:+ (target $BUILD_TARGET only)} against LibTorch ($TORCH)"
