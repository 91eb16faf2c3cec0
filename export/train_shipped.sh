#!/usr/bin/env bash
# Recipe of the shipped weights (export/weights/): dataset, the four training runs, stage 3, copy with cards.
# Re-running resumes every run from its checkpoint. On the 2-core development machine each run gets one
# thread; on a bigger machine raise THREADS or run under torchrun.
set -euo pipefail
OUT=${OUT:-out}
DATA=${DATA:-$OUT/datasets/mp3000}
STEPS=${STEPS:-4000}       # stage 2, no-map and peer: the same budget
STEPS1=${STEPS1:-6000}     # stage 1 (perception)
STEPS3=${STEPS3:-1500}     # stage 3 (joint fine-tuning)
THREADS=${THREADS:-1}
export OMP_NUM_THREADS=$THREADS
train() { burstdeblur train --data "$DATA" --workers 1 "$@"; }

[ -d "$DATA" ] || burstdeblur dataset build --sources all --count 3000 --out "$DATA"
train --stage 1 --out "$OUT/runs/stage1" --steps "$STEPS1" > "$OUT/runs/stage1.log" 2>&1 &
train --stage 2 --out "$OUT/runs/stage2" --steps "$STEPS" > "$OUT/runs/stage2.log" 2>&1 &
train --stage 2 --deblur no-map --out "$OUT/runs/nomap" --steps "$STEPS" > "$OUT/runs/nomap.log" 2>&1 &
train --stage 2 --deblur nafnet-peer --out "$OUT/runs/peer" --steps "$STEPS" > "$OUT/runs/peer.log" 2>&1 &
wait
train --stage 3 --out "$OUT/runs/stage3" --steps "$STEPS3" --lr 2e-4 \
    --init-from "$OUT/runs/stage1/weights.safetensors" "$OUT/runs/stage2/weights.safetensors" > "$OUT/runs/stage3.log" 2>&1

# Shipped copies: weights + card side by side (trained_models.find_card reads NAME.json).
WEIGHTS=$(dirname "$0")/weights
for pair in "default:stage3" "no-map:nomap" "nafnet-peer:peer" "stage2:stage2"; do
    name=${pair%%:*}; run=${pair#*:}
    cp "$OUT/runs/$run/weights.safetensors" "$WEIGHTS/$name.safetensors"
    cp "$OUT/runs/$run/card.json" "$WEIGHTS/$name.json"
done
