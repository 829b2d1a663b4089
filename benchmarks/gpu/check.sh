#!/usr/bin/env bash
# Step 14's GPU checks, one call on the lent GPU machine (built by pack.sh, carried as .gpu):
#   1. benchmarks/gpu_packing.py: aggregate training beats/s of every builtin architecture,
#      1 run vs N runs per GPU (plain processes: the image has no Ray), every run's validation
#      score (the same seed must score the same alone and packed), and `full`'s wall time on
#      one GPU extrapolated from the measured rates;
#   2. benchmarks/reproduce_seed.py: the seed report's best configurations (its batch sizes,
#      30 epochs, its recipe and the engine's), 3 seeds, all runs packed on the GPU.
# Everything lands in $OUT (the device tool brings it back); sizes are variables below.
#
#   bash benchmarks/gpu/check.sh
# A smoke run on a CPU (measures nothing):
#   OUT=/tmp/gpu-check PYTHON=.venv/bin/python PACKING_BEATS=256 PACKS="1 2" SEED_EPOCHS=1 \
#     SEED_PARALLEL=2 SEED_ARGS="--max-steps 3 --archs 2dcnn" bash benchmarks/gpu/check.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gpu-check}
PYTHON=${PYTHON:-python3}
PACKING_BEATS=${PACKING_BEATS:-100000}
PACKS=${PACKS:-"1 8 16"}
PACKING_SECONDS=${PACKING_SECONDS:-240}
SEED_PARALLEL=${SEED_PARALLEL:-12}
SEED_EPOCHS=${SEED_EPOCHS:-30}
SEED_SECONDS=${SEED_SECONDS:-270}
SEED_ARGS=${SEED_ARGS:-}    # more reproduce_seed.py options (a CPU smoke run: --max-steps 3)
mkdir -p "$OUT"
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/mz-site .gpu/*.whl || exit 1
export PYTHONPATH=/tmp/mz-site${PYTHONPATH:+:$PYTHONPATH}
mkdir -p /tmp/mz-data && tar -C /tmp/mz-data -xJf .gpu/mitdb.tar.xz || exit 1
export MADS_ZOO_DATA_DIR=/tmp/mz-data/mitdb MADS_ZOO_CACHE_DIR=/tmp/mz-cache
{ nvidia-smi --query-gpu=name,memory.total,clocks.sm --format=csv; "$PYTHON" -c \
  'import torch, mads_zoo; print("torch", torch.__version__, torch.cuda.is_available())'; } \
  2>&1 | tee "$OUT/machine.txt"
"$PYTHON" -c "from mads_zoo.cli import main; main()" list >> "$OUT/machine.txt" 2>&1
timeout "$PACKING_SECONDS" "$PYTHON" benchmarks/gpu_packing.py --launcher processes \
    --beats "$PACKING_BEATS" --packs $PACKS --out "$OUT/packing.json" 2>&1 | tee "$OUT/packing.log"
timeout "$SEED_SECONDS" "$PYTHON" benchmarks/reproduce_seed.py --splits intra --seeds 3 \
    --epochs "$SEED_EPOCHS" --parallel "$SEED_PARALLEL" --out "$OUT/seed" $SEED_ARGS 2>&1 \
    | tee "$OUT/seed.log"
tail -n 12 "$OUT/packing.log"; cat "$OUT/seed/table.md" 2>/dev/null
