#!/usr/bin/env bash
# tinytape's CPU device against PyTorch on this machine, run alternately so drift hits both alike.
# PyTorch runs ../shared/reference/torch_rnn.py (d2l's chapter-8 code; Debian's python3-torch, the best
# thread setting the reference README gives: OPENBLAS_NUM_THREADS=2 and one torch thread). Debian's torch
# links the system BLAS: install libopenblas0-pthread too, or it runs on the reference BLAS, about 10-30x
# slower (seen here: concise RNN 5k tokens/s instead of 55k).
#
#   scripts/vs-pytorch.sh [ROUNDS] [EPOCHS] [MODELS]   # default 3 rounds of 20 epochs per model, all four models
#   MODELS="gru lstm" scripts/vs-pytorch.sh 3 20       # MODELS may also come from the environment
#
# Models (both sides batch 32, 35 steps, the same first 10,000 characters of the Time Machine):
#   scratch  tinytape --model scratch --hidden 512   vs  torch_rnn.py --model scratch --hidden 512
#   concise  tinytape --model rnn --hidden 256       vs  torch_rnn.py --model concise --cell rnn --hidden 256
#   gru      tinytape --model gru --hidden 256       vs  torch_rnn.py --model concise --cell gru --hidden 256
#   lstm     tinytape --model lstm --hidden 256      vs  torch_rnn.py --model concise --cell lstm --hidden 256
# Each round runs tinytape then PyTorch for one model; all rounds of a model finish before the next model.
#
# Prints each run's tokens/s, on both sides the median over the run's epochs (tinytape: of its --csv
# log; PyTorch: the figure it prints), and the median ratio per model. Needs ../shared/data; bundles
# the CLI from its sources first.
#
# Why 20 epochs and medians: an epoch of the default 10,000 characters is 8 steps, and V8 keeps
# compiling tinytape's JavaScript for about the first 70 steps, on the second core, where the wasm
# matmul's helper thread runs (the scratch RNN 512's per-step products took about 20% longer while it
# did). A run of 4 epochs, read from its last epoch alone, measured that warm-up: 23-25k tokens/s
# where 16 epochs gave 28-29k (2026-12-04). PyTorch's figure was already its median over epochs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
epochs=${2:-20}
models=${3:-${MODELS:-scratch concise gru lstm}}
shared=${TINYTAPE_SHARED:-$root/../shared}
batch=32
steps=35

# model -> "tinytape --model, PyTorch --model/--cell, hidden size"
flags_for() {
  case $1 in
    scratch) echo "scratch scratch rnn 512" ;;
    concise) echo "rnn concise rnn 256" ;;
    gru) echo "gru concise gru 256" ;;
    lstm) echo "lstm concise lstm 256" ;;
    *) echo "vs-pytorch.sh: unknown model '$1' (expected scratch, concise, gru or lstm)" >&2; return 1 ;;
  esac
}
for model in $models; do flags_for "$model" >/dev/null || exit 2; done

node --input-type=module -e "await (await import('$root/scripts/build.mjs')).buildCli()"
log=$(mktemp --suffix .csv)
trap 'rm -f "$log"' EXIT
cli="node $root/.cache/bundles/tinytape.mjs train --data-dir $shared/data --device cpu --quiet --epochs $epochs --batch-size $batch --num-steps $steps --csv $log"
# The median of the tokensPerSec column (the third) of tinytape's per-epoch log.
median_speed() { tail -n +2 "$log" | cut -d, -f3 | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
torch() { TIMEMACHINE=$shared/data/timemachine.txt OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$shared/reference/torch_rnn.py" --threads 1 --epochs "$epochs" --batch $batch --steps $steps "$@"; }

for model in $models; do
  read -r ours_model torch_model torch_cell hidden <<<"$(flags_for "$model")"
  ratios=()
  for r in $(seq "$rounds"); do
    $cli --model "$ours_model" --hidden "$hidden" >/dev/null
    ours=$(median_speed)
    theirs=$(torch --model "$torch_model" --cell "$torch_cell" --hidden "$hidden" | grep -o 'median tokens/sec over [0-9]* epochs: [0-9.]*' | awk '{print $NF}')
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio")
    echo "$model (hidden $hidden) round $r: tinytape $ours, pytorch $theirs tokens/s, tinytape/pytorch $ratio"
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk -v m="$model" '{ v[NR] = $1 } END { print m ": median tinytape/pytorch " v[int((NR + 1) / 2)] }'
done
