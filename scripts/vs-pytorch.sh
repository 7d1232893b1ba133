#!/usr/bin/env bash
# tinytape's CPU device against PyTorch on this machine, run alternately so drift hits both alike.
# PyTorch runs ../shared/reference/torch_rnn.py (d2l's chapter-8 code; Debian's python3-torch, the best
# thread setting the reference README gives: OPENBLAS_NUM_THREADS=2 and one torch thread). Debian's torch
# links the system BLAS: install libopenblas0-pthread too, or it runs on the reference BLAS, about 10-30x
# slower (seen here: concise RNN 5k tokens/s instead of 55k).
#
#   scripts/vs-pytorch.sh [ROUNDS] [EPOCHS]     # default 3 rounds of 4 epochs per model
#
# Prints each run's tokens/s (tinytape: its CLI's final line; PyTorch: its median over the epochs) and
# the median ratio per model. Needs ../shared/data; bundles the CLI from its sources first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
epochs=${2:-4}
shared=${TINYTAPE_SHARED:-$root/../shared}
node --input-type=module -e "await (await import('$root/scripts/build.mjs')).buildCli()"
cli="node $root/.cache/bundles/tinytape.mjs train --data-dir $shared/data --device cpu --quiet --epochs $epochs"
torch() { TIMEMACHINE=$shared/data/timemachine.txt OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$shared/reference/torch_rnn.py" --threads 1 --epochs "$epochs" "$@"; }

for model in scratch concise; do
  if [ $model = scratch ]; then flags="--model scratch --hidden 512"; else flags="--model rnn --hidden 256"; fi
  ratios=()
  for r in $(seq "$rounds"); do
    ours=$($cli $flags | grep -o '[0-9.]* tokens/sec' | cut -d' ' -f1)
    theirs=$(torch --model $model | grep -o 'median tokens/sec over [0-9]* epochs: [0-9.]*' | awk '{print $NF}')
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio")
    echo "$model round $r: tinytape $ours, pytorch $theirs tokens/s, tinytape/pytorch $ratio"
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk -v m=$model '{ v[NR] = $1 } END { print m ": median tinytape/pytorch " v[int((NR + 1) / 2)] }'
done
