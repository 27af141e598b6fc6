#!/usr/bin/env bash
# Fails when a library area includes a header of an area above it.
# Layers, lowest first (docs/design.md): core -> {data, models} ->
# {postprocess, weights} -> {inference, export} -> eval -> train ->
# experiment -> api -> tools.  Areas on one layer
# are peers and do not include each other either: what both need goes one
# layer down.  The public headers (include/deeplab/*.h) include no library
# header at all: applications see only them.  A few pairs the layers would
# allow are ruled out by design (forbidden_reason below: train -> export).
#   scripts/check_layering.sh [ROOT]     (ROOT: the source tree, default: this one)
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}

layer_of() {
  case "$1" in
    core) echo 0 ;;
    data|models) echo 1 ;;
    postprocess|weights) echo 2 ;;
    inference|export) echo 3 ;;
    eval) echo 4 ;;
    train) echo 5 ;;
    experiment) echo 6 ;;
    api) echo 7 ;;
    *) echo "" ;;
  esac
}

# Pairs that layers alone would allow but the design rules out, with why.
forbidden_reason() {
  case "$1->$2" in
    train-\>export) echo "training loads and saves weights (weights/) but never exports" ;;
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
    elif [ -n "$(forbidden_reason "$area" "$target")" ]; then
      echo "layering: deeplab/$rel:$line ($area) includes deeplab/$target/: $(forbidden_reason "$area" "$target")"
      violations=$((violations + 1))
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"deeplab/[a-z_]*/' "$file" |
           sed -E 's/^([0-9]+):.*"deeplab\/([a-z_]+)\/.*/\1:\2/')
  # A public header (deeplab/<name>.h, from include/) belongs to the api layer.
  if [ "$area" != api ] && grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"deeplab/[a-z_]+\.h"' "$file"; then
    echo "layering: deeplab/$rel ($area) includes a public header; only deeplab/api/ implements them"
    violations=$((violations + 1))
  fi
done < <(find "$root/deeplab" -name '*.h' -o -name '*.cpp' | sort)

# The public headers stand alone.
while IFS=: read -r file line _; do
  echo "layering: ${file#"$root"/}:$line: a public header includes a library header"
  violations=$((violations + 1))
done < <(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"deeplab/[a-z_]*/' "$root"/include/deeplab/*.h* 2>/dev/null || true)

if [ "$violations" -gt 0 ]; then
  echo "layering: $violations upward or sideways include(s)"
  exit 1
fi
echo "layering: ok ($(find "$root/deeplab" -name '*.h' -o -name '*.cpp' | wc -l) files)"
