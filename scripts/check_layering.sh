#!/usr/bin/env bash
# Fails when a library area includes a header of an area above it.
# Layers, lowest first (DESIGN.md): core -> {data, models} -> postprocess ->
# {eval, export} -> train -> experiment -> tools.  Areas on one layer are peers
# and do not include each other either: what both need goes one layer down.
# postprocess sits below eval because evaluating a panoptic model means
# post-processing its outputs (DESIGN had them as peers).
#   scripts/check_layering.sh [ROOT]     (ROOT: the source tree, default: this one)
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}

layer_of() {
  case "$1" in
    core) echo 0 ;;
    data|models) echo 1 ;;
    postprocess) echo 2 ;;
    eval|export) echo 3 ;;
    train) echo 4 ;;
    experiment) echo 5 ;;
    *) echo "" ;;
  esac
}

violations=0
while IFS= read -r file; do
  rel=${file#"$root"/deeplab/}
  area=${rel%%/*}
  own=$(layer_of "$area")
  [ -n "$own" ] || { echo "layering: $file is in no known area ($area)"; violations=$((violations + 1)); continue; }
  while IFS=: read -r line target; do
    [ -n "$target" ] || continue
    target_layer=$(layer_of "$target")
    if [ -z "$target_layer" ]; then
      echo "layering: deeplab/$rel:$line includes unknown area deeplab/$target/"
      violations=$((violations + 1))
    elif [ "$target" != "$area" ] && [ "$target_layer" -ge "$own" ]; then
      echo "layering: deeplab/$rel:$line ($area, layer $own) includes deeplab/$target/ (layer $target_layer)"
      violations=$((violations + 1))
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"deeplab/' "$file" |
           sed -E 's/^([0-9]+):.*"deeplab\/([a-z_]+)\/.*/\1:\2/')
done < <(find "$root/deeplab" -name '*.h' -o -name '*.cpp' | sort)

if [ "$violations" -gt 0 ]; then
  echo "layering: $violations upward or sideways include(s)"
  exit 1
fi
echo "layering: ok ($(find "$root/deeplab" -name '*.h' -o -name '*.cpp' | wc -l) files)"
