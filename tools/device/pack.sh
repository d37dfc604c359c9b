#!/usr/bin/env bash
# Builds .device-carry/ (ignored by git), which the `run` tool carries to the GPU machine:
#   node.tar.xz   this machine's Node binary (the device has none), unpacked there to /tmp/node/bin/node
#   ort.tar.xz    onnxruntime-node (linux-x64 runtime only) + onnxruntime-common, unpacked to /tmp/job/node_modules
#   mods.tar.xz   optional extra node_modules packages (e.g. the corpus data packages), same destination
#   jobs/*.mjs    bundled jobs (tools/device/bundle.sh), one per entry
#
#   tools/device/pack.sh [--modules "pkgA pkgB"] [entry.ts ...]     (default entry: tools/device/smoke.ts)
#
# node.tar.xz and ort.tar.xz are rebuilt only when their source changes (stamp files); bundles always are.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
carry="$root/.device-carry"
modules=${DEVICE_MODULES:-}
entries=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --modules) modules=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) entries+=("$1"); shift ;;
  esac
done
[[ ${#entries[@]} -gt 0 ]] || entries=("$root/tools/device/smoke.ts")
mkdir -p "$carry/jobs"
nm="$root/node_modules"

# (a) Node: single static-enough binary (needs only glibc/libstdc++, present on the device image).
node_bin=$(command -v node)
node_stamp="$(node -v) $(stat -c %s "$node_bin")"
if [[ ! -f $carry/node.tar.xz || "$(cat "$carry/node.stamp" 2>/dev/null)" != "$node_stamp" ]]; then
  echo "packing node $(node -v) (xz -9, takes a minute or two)..." >&2
  tar -C "$(dirname "$(readlink -f "$node_bin")")" --transform 's,^[^/]*$,node,' \
    -cf - "$(basename "$(readlink -f "$node_bin")")" | xz -9 -T2 >"$carry/node.tar.xz.tmp"
  mv "$carry/node.tar.xz.tmp" "$carry/node.tar.xz"
  echo "$node_stamp" >"$carry/node.stamp"
fi

# (b) onnxruntime-node: JS + the linux-x64 native libs only (other platforms are ~100 MB of dead weight).
ort_ver=$(node -p "require('$nm/onnxruntime-node/package.json').version")
ort_stamp="$ort_ver $(stat -c %s "$nm/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1")"
if [[ ! -f $carry/ort.tar.xz || "$(cat "$carry/ort.stamp" 2>/dev/null)" != "$ort_stamp" ]]; then
  echo "packing onnxruntime-node $ort_ver..." >&2
  (cd "$nm" && tar -cf - onnxruntime-node/package.json onnxruntime-node/dist onnxruntime-node/bin/napi-v6/linux/x64 \
    onnxruntime-common/package.json onnxruntime-common/dist) | xz -9 -T2 >"$carry/ort.tar.xz.tmp"
  mv "$carry/ort.tar.xz.tmp" "$carry/ort.tar.xz"
  echo "$ort_stamp" >"$carry/ort.stamp"
fi

# (c) optional extra packages (resolved relative to node_modules/, copied whole).
if [[ -n $modules ]]; then
  echo "packing extra modules: $modules" >&2
  # shellcheck disable=SC2086
  (cd "$nm" && tar -cf - $modules) | xz -6 -T2 >"$carry/mods.tar.xz.tmp"
  mv "$carry/mods.tar.xz.tmp" "$carry/mods.tar.xz"
else
  rm -f "$carry/mods.tar.xz"
fi

# (d) bundled jobs.
for e in "${entries[@]}"; do
  name=$(basename "${e%.ts}")
  "$root/tools/device/bundle.sh" "$e" "$carry/jobs/$name.mjs"
  echo "bundled $e -> .device-carry/jobs/$name.mjs" >&2
done

total=$(du -sb "$carry" | cut -f1)
du -sh "$carry"/* "$carry"/jobs/* >&2
echo ".device-carry total: $((total / 1024 / 1024)) MiB (the whole working tree + carry must stay under 64 MiB)" >&2
if ((total > 50 * 1024 * 1024)); then echo "warning: .device-carry is over 50 MiB" >&2; fi
