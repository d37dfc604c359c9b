#!/usr/bin/env bash
# Runs ON the device: sets up (setup-remote.sh), then runs a bundled job with the carried Node.
#
#   bash tools/device/job.sh <name|path.mjs> [job args...]     e.g.  bash tools/device/job.sh smoke --m 2048
#
# The bundle is copied next to $DEVICE_ROOT/job/node_modules so its `import 'onnxruntime-node'` resolves there
# (ESM ignores NODE_PATH); the working directory stays the repo root, so relative paths in args work.
# Write results under $OUT (only $OUT comes back from the device).
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 <name|path.mjs> [args...]" >&2; exit 2; }
job=$1
shift
[[ $job == *.mjs ]] || job=".device-carry/jobs/$job.mjs"
# shellcheck source=setup-remote.sh
. "$(dirname "$0")/setup-remote.sh"
root=${DEVICE_ROOT:-/tmp}
cp "$job" "$root/job/$(basename "$job")"
exec "$root/node/bin/node" --enable-source-maps "$root/job/$(basename "$job")" "$@"
