#!/usr/bin/env bash
# Fails when a C++ source differs from what clang-format makes of it with the
# project's .clang-format (the house style; includes sorted in blocks).
# Exit 77 (a skip) where clang-format is not installed.
#   scripts/check_format.sh [ROOT]      fix: clang-format -i FILE...
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
cd "$root"
command -v clang-format >/dev/null || { echo "format: clang-format not installed; skipped"; exit 77; }
mapfile -t files < <(find deeplab include tools tests examples fuzz -name '*.h' -o -name '*.cpp' | sort)
bad=0
for f in "${files[@]}"; do
  if ! clang-format --style=file "$f" | cmp -s - "$f"; then
    echo "format: $f differs from clang-format's output (clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
[ "$bad" -eq 0 ] || { echo "format: $bad file(s) not formatted"; exit 1; }
echo "format: ok (${#files[@]} files)"
