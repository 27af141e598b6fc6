#!/usr/bin/env bash
# The venv of the PyTorch 2.x build (scripts/setup.sh --torch pip), sourced by
# the scripts that need it; run directly, it prints the paths.
#   TORCH2_VENV   ${DEEPLAB_VENV_ROOT:-~/.cache/deeplab-cpp}/venv-torch2-<hash of requirements-torch2.txt>
_torch_env_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_torch_env_hash=$(sha256sum "$_torch_env_root/scripts/requirements-torch2.txt" | cut -c1-12)
TORCH2_VENV="${DEEPLAB_VENV_ROOT:-$HOME/.cache/deeplab-cpp}/venv-torch2-$_torch_env_hash"
export TORCH2_VENV
unset _torch_env_root _torch_env_hash
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "TORCH2_VENV=$TORCH2_VENV"
  [ -f "$TORCH2_VENV/.complete" ] && echo "ready" || echo "not made yet: scripts/setup.sh --torch pip"
fi
