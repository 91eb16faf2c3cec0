#!/usr/bin/env bash
# Recipe of the shipped weights (export/weights/): dataset, the training runs, stage 3, copy with cards.
# Re-running resumes every run from its checkpoint. On the 2-core development machine each run gets one
# thread; on a bigger machine raise THREADS or run under torchrun.
#
# Generation 2 (this recipe): data for both paths (`dataset build --both-paths`: aligned burst merges,
# unaligned fusion from no blur to heavy, sharp stills, noise from daylight to night), every run warm-started
# from the generation-1 weights (copied to $OUT/prev before anything is overwritten; each card's init_from
# names the file and its SHA-256). The NAFNet-style peer is not retrained (it stays generation 1).
set -euo pipefail
OUT=${OUT:-out}
DATA=${DATA:-$OUT/datasets/both4000}
STEPS=${STEPS:-7000}       # stage 2 and the no-map ablation: the same budget
STEPS1=${STEPS1:-12000}     # stage 1 (perception)
STEPS3=${STEPS3:-1500}     # stage 3 (joint fine-tuning)
LR=${LR:-5e-4}             # warm starts: half the from-scratch rate
THREADS=${THREADS:-1}
export OMP_NUM_THREADS=$THREADS
WEIGHTS=$(dirname "$0")/../weights
PREV=$OUT/prev
train() { burstdeblur train --data "$DATA" --workers 1 "$@"; }

mkdir -p "$OUT/runs"
[ -d "$PREV" ] || cp -r "$WEIGHTS" "$PREV"
[ -d "$DATA" ] || burstdeblur dataset build --both-paths --sources all --count 4000 --out "$DATA"
train --stage 1 --out "$OUT/runs/stage1" --steps "$STEPS1" --lr "$LR" \
    --init-from "$PREV/default.safetensors" > "$OUT/runs/stage1.log" 2>&1 &
train --stage 2 --out "$OUT/runs/stage2" --steps "$STEPS" --lr "$LR" \
    --init-from "$PREV/stage2.safetensors" > "$OUT/runs/stage2.log" 2>&1 &
train --stage 2 --deblur no-map --out "$OUT/runs/nomap" --steps "$STEPS" --lr "$LR" \
    --init-from "$PREV/no-map.safetensors" > "$OUT/runs/nomap.log" 2>&1 &
wait
train --stage 3 --out "$OUT/runs/stage3" --steps "$STEPS3" --lr 2e-4 \
    --init-from "$OUT/runs/stage1/weights.safetensors" "$OUT/runs/stage2/weights.safetensors" > "$OUT/runs/stage3.log" 2>&1

# Shipped copies: weights + card side by side (trained_models.find_card reads NAME.json).
for pair in "default:stage3" "no-map:nomap" "stage2:stage2"; do
    name=${pair%%:*}; run=${pair#*:}
    cp "$OUT/runs/$run/weights.safetensors" "$WEIGHTS/$name.safetensors"
    cp "$OUT/runs/$run/card.json" "$WEIGHTS/$name.json"
done
