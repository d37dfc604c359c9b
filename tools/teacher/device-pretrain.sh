#!/usr/bin/env bash
# Runs ON the device machine (see tools/device/README.md): pretrains the default teacher across back-to-back calls.
# First call: probes cpu (16 threads) and webgpu for 20 steps each, keeps the faster, fixes the step count so the
# run fits in TRAIN_MIN minutes, then trains until its per-call budget; later calls resume from /tmp/teacher-ckpt.
# When training completes, the HF model folder lands in $OUT/teacher/.
#   run: set -o pipefail; bash tools/teacher/device-pretrain.sh 2>&1 | tee $OUT/pretrain.log
set -euo pipefail
CALL_BUDGET=${CALL_BUDGET:-540}
TRAIN_MIN=${TRAIN_MIN:-17}
BATCH=${BATCH:-32}
SEQ=${SEQ:-256}
start=$(date +%s)
data=.device-carry/teacher-data
plan=/tmp/teacher-plan.env
common=(--data "$data" --batch "$BATCH" --seq "$SEQ" --layers 8 --hidden 256 --heads 4 --kv-heads 2 --ffn 768 --lr 3e-3 --warmup 200 --eval-every 250 --eval-tokens 65536)
job() { DEVICE_QUIET=1 bash tools/device/job.sh pretrain "$@"; }
if [[ ! -f $plan ]]; then
  DEVICE_QUIET=0 bash tools/device/job.sh pretrain --help >/dev/null 2>&1 || true
  rate() { grep -o '[0-9]* tok/s' | tail -1 | cut -d' ' -f1; }
  cpu=$(job "${common[@]}" --steps 20 --ep cpu --threads 16 --ckpt /tmp/probe-cpu --out /tmp/probe-out --eval-every 1000 --no-final-eval 2>&1 | tee /dev/stderr | rate || echo 0)
  gpu=$(job "${common[@]}" --steps 20 --ep webgpu --threads 4 --ckpt /tmp/probe-gpu --out /tmp/probe-out --eval-every 1000 --no-final-eval 2>&1 | tee /dev/stderr | rate || echo 0)
  echo "probe: cpu ${cpu:-0} tok/s, webgpu ${gpu:-0} tok/s"
  if (( ${gpu:-0} > ${cpu:-0} )); then ep=webgpu; threads=4; r=$gpu; else ep=cpu; threads=16; r=$cpu; fi
  steps=$(( r * 60 * TRAIN_MIN / (BATCH * SEQ) ))
  echo "EP=$ep THREADS=$threads STEPS=$steps" > "$plan"
fi
# shellcheck disable=SC1090
. <(sed 's/^/export /' "$plan")
echo "plan: ep $EP threads $THREADS steps $STEPS"
left=$(( CALL_BUDGET - ($(date +%s) - start) - 20 ))
job "${common[@]}" --steps "$STEPS" --ep "$EP" --threads "$THREADS" --ckpt /tmp/teacher-ckpt --out "$OUT/teacher" --stop-after-sec "$left"
cp /tmp/teacher-plan.env "$OUT/plan.env" 2>/dev/null || true
