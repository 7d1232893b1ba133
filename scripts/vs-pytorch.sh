#!/usr/bin/env bash
# tinytape's CPU device against PyTorch on this machine, run alternately so drift hits both alike.
# PyTorch runs ../shared/reference/torch_rnn.py (d2l's chapter-8 code; Debian's python3-torch, the best
# thread setting the reference README gives: OPENBLAS_NUM_THREADS=2 and one torch thread). Debian's torch
# links the system BLAS: install libopenblas0-pthread too, or it runs on the reference BLAS, about 10-30x
# slower (seen here: concise RNN 5k tokens/s instead of 55k).
#
#   scripts/vs-pytorch.sh [ROUNDS] [EPOCHS] [MODELS]   # default 3 rounds of 4 epochs per model, all four models
#   MODELS="gru lstm" scripts/vs-pytorch.sh 3 4        # MODELS may also come from the environment
#
# Models (both sides batch 32, 35 steps, the same first 10,000 characters of the Time Machine):
#   scratch  tinytape --model scratch --hidden 512   vs  torch_rnn.py --model scratch --hidden 512
#   concise  tinytape --model rnn --hidden 256       vs  torch_rnn.py --model concise --cell rnn --hidden 256
#   gru      tinytape --model gru --hidden 256       vs  torch_rnn.py --model concise --cell gru --hidden 256
#   lstm     tinytape --model lstm --hidden 256      vs  torch_rnn.py --model concise --cell lstm --hidden 256
# Each round runs tinytape then PyTorch for one model; all rounds of a model finish before the next model.
#
# Prints each run's tokens/s (tinytape: its CLI's final line; PyTorch: its median over the epochs) and
# the median ratio per model. Needs ../shared/data; bundles the CLI from its sources first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
epochs=${2:-4}
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
cli="node $root/.cache/bundles/tinytape.mjs train --data-dir $shared/data --device cpu --quiet --epochs $epochs --batch-size $batch --num-steps $steps"
torch() { TIMEMACHINE=$shared/data/timemachine.txt OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$shared/reference/torch_rnn.py" --threads 1 --epochs "$epochs" --batch $batch --steps $steps "$@"; }

for model in $models; do
  read -r ours_model torch_model torch_cell hidden <<<"$(flags_for "$model")"
  ratios=()
  for r in $(seq "$rounds"); do
    ours=$($cli --model "$ours_model" --hidden "$hidden" | grep -o '[0-9.]* tokens/sec' | cut -d' ' -f1)
    theirs=$(torch --model "$torch_model" --cell "$torch_cell" --hidden "$hidden" | grep -o 'median tokens/sec over [0-9]* epochs: [0-9.]*' | awk '{print $NF}')
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio")
    echo "$model (hidden $hidden) round $r: tinytape $ours, pytorch $theirs tokens/s, tinytape/pytorch $ratio"
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk -v m="$model" '{ v[NR] = $1 } END { print m ": median tinytape/pytorch " v[int((NR + 1) / 2)] }'
done
