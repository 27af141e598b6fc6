#!/usr/bin/env bash
# The venv of the checking tools (scripts/requirements-tools.txt: tensorboard,
# onnx, onnxruntime), sourced by setup.sh; run directly, it prints the path.
#   TOOLS_VENV   ${DEEPLAB_VENV_ROOT:-~/.cache/deeplab-cpp}/venv-tools-<hash of requirements-tools.txt>
# CMake names the same path (third_party/cmake/DeepLabDependencies.cmake).
_tools_env_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tools_env_hash=$(sha256sum "$_tools_env_root/scripts/requirements-tools.txt" | cut -c1-12)
TOOLS_VENV="${DEEPLAB_VENV_ROOT:-$HOME/.cache/deeplab-cpp}/venv-tools-$_tools_env_hash"
export TOOLS_VENV
unset _tools_env_root _tools_env_hash
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "TOOLS_VENV=$TOOLS_VENV"
  [ -f "$TOOLS_VENV/.complete" ] && echo "ready" || echo "not made yet: scripts/setup.sh makes it when PyPI answers"
fi
