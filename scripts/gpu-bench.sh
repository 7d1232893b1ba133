#!/usr/bin/env bash
# tinytape's WebGPU throughput on a lent GPU machine (no Node.js, no network there); see docs/webgpu-h100.md.
#
#   scripts/gpu-bench.sh prepare      # here: fill .gpubench/ (git-ignored via .git/info/exclude) with a
#                                     # compressed node, Dawn's dawn.node, bundles of pnpm bench and the CLI,
#                                     # the corpus and a CUDA-capable copy of ../shared/reference/torch_rnn.py
#   scripts/gpu-bench.sh run [STEPS]  # there (device tool: carry .gpubench and .gl): unpack into /tmp/gb-APP and run
#                                     # STEPS (default: env profile ppl torch bench paths; also layers, solo, cpuprof);
#                                     # logs go to $OUT (or ./gpubench-out)
#
# prepare bundles a clean export of GB_REF (default HEAD), or with GB_SRC=DIR the files of a checkout as they
# are (uncommitted edits included; DIR needs its node_modules, e.g. a `git worktree` after pnpm install).
# GB_PATHS (default "kernel sequence steps") names the recurrence paths the paths step times.
# GB_APP=NAME (default app) names the bundle folder in .gpubench for both prepare and run, so two builds can
# travel together and be timed on the same machine (e.g. GB_APP=app-before).
#
# .gl holds the Vulkan loader debs (libvulkan1 & co.), fetched as /work/.library/device/README.md says.
# Locally (lavapipe) `GB_SMALL=1 scripts/gpu-bench.sh run` runs every step at tiny sizes as a smoke test.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pack=$root/.gpubench

prepare() {
  set -e
  cd "$root"
  local app=$pack/${GB_APP:-app}
  mkdir -p "$app/node_modules/webgpu/dist/linux-x64" "$pack/data" "$pack/ref"
  # node and dawn.node are ~120 MB raw; xz brings them to ~29 MB (the device tree may carry 64 MiB).
  [ -s "$pack/node.xz" ] || xz -T2 -9 -c "$(command -v node)" >"$pack/node.xz"
  local wg=node_modules/.pnpm/webgpu@0.6.2/node_modules/webgpu
  [ -s "$pack/dawn.node.xz" ] || xz -T2 -9 -c "$wg/dist/linux-x64/dawn.node" >"$pack/dawn.node.xz"
  cp "$wg/index.js" "$wg/package.json" "$app/node_modules/webgpu/"
  # One ES module each (esbuild, as pnpm bench / pnpm train build them); webgpu stays external and resolves
  # from app/node_modules. The peers are dynamic imports, never loaded with --peers none.
  # Bundled from a clean export of a commit (default HEAD), not the working tree, which may hold someone's
  # unfinished edits; the export borrows this checkout's node_modules (pnpm's links are relative).
  local ref=${GB_REF:-HEAD} src=/tmp/gb-src
  if [ -n "${GB_SRC:-}" ]; then
    src=$(cd "$GB_SRC" && pwd)
    { echo "$(git -C "$src" rev-parse HEAD) plus the uncommitted files of $src:"; git -C "$src" status --short; } >"$app/COMMIT"
  else
    rm -rf $src && mkdir -p $src && git archive "$ref" | tar -x -C $src
    ln -s "$root/node_modules" $src/node_modules
    for d in packages/* benchmarks; do [ -d "$d/node_modules" ] && cp -a "$d/node_modules" "$src/$d/"; done
    git rev-parse "$ref" >"$app/COMMIT"
  fi
  (cd $src && node --input-type=module -e "
    import { bundleForNode } from './scripts/build.mjs';
    await bundleForNode('benchmarks/src/main.ts', '$app/bench.mjs', { external: ['webgpu', '@tensorflow/*', '@jax-js/*'] });
    await bundleForNode('packages/rnn/src/cli/bin.ts', '$app/tinytape.mjs');
    await bundleForNode('benchmarks/src/layer-paths.ts', '$app/layer-paths.mjs', { external: ['webgpu'] });")
  cp ../shared/data/timemachine.txt "$pack/data/"
  # The reference hard-codes the CPU; let TORCH_DEVICE pick cuda (its float(loss) per step already syncs the GPU).
  sed -e "s/device = torch.device('cpu')/device = torch.device(os.environ.get('TORCH_DEVICE', 'cpu'))/" \
      -e "s/tokens\/sec cpu (last epoch)/tokens\/sec {device} (last epoch)/" \
      ../shared/reference/torch_rnn.py >"$pack/ref/torch_rnn.py"
  grep -q "TORCH_DEVICE" "$pack/ref/torch_rnn.py"
  du -sh "$pack"
}

run() {
  local steps=${*:-env profile ppl torch bench paths}
  local out=${OUT:-$root/gpubench-out}
  mkdir -p "$out"
  # Vulkan loader (the image has the NVIDIA ICD but no libvulkan.so.1); skipped where one is installed.
  if ! ldconfig -p | grep -q libvulkan.so.1 && [ -d "$root/.gl" ]; then
    for f in "$root"/.gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export XDG_RUNTIME_DIR=$(mktemp -d)
  local app=${GB_APP:-app}
  local gb=/tmp/gb-$app
  if [ ! -x $gb/node ]; then
    mkdir -p $gb
    cp -r "$pack/$app/." $gb/
    xz -dc "$pack/node.xz" >$gb/node && chmod +x $gb/node
    xz -dc "$pack/dawn.node.xz" >$gb/node_modules/webgpu/dist/linux-x64/dawn.node
  fi
  local node=$gb/node data=$pack/data
  local tt="$node $gb/tinytape.mjs train --data-dir $data --pred-period 1000"
  # Sizes: the book's (batch 32, 35 steps, 10,000 tokens), or tiny ones for a local smoke test.
  local H512=512 H256=256 PPL_EPOCHS=20 PROF_EPOCHS=5 BENCH="" TORCH_EPOCHS=20
  if [ -n "${GB_SMALL:-}" ]; then H512=32 H256=16 PPL_EPOCHS=2 PROF_EPOCHS=1 BENCH="--quick" TORCH_EPOCHS=2; fi

  for step in $steps; do
    echo "=== $step $(date -u +%T)" >&2
    case $step in
    env) {
      cat $gb/COMMIT; uname -a; nproc; $node --version
      nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
      nvidia-smi 2>&1 | head -15
      ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1
      echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"; ldconfig -p | grep -i 'vulkan\|nvidia' | head
      python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))' 2>&1 | tail -1
      # Which adapter Dawn picks, and its limits that matter here.
      (cd $gb && timeout 60 ./node --input-type=module -e "
        import { create, globals } from 'webgpu';
        const gpu = create([]);
        const a = await gpu.requestAdapter();
        if (!a) { console.log('no adapter'); process.exit(1); }
        const i = a.info; console.log('adapter', JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback: i.isFallbackAdapter }));
        console.log('maxComputeInvocationsPerWorkgroup', a.limits.maxComputeInvocationsPerWorkgroup, 'maxStorageBufferBindingSize', a.limits.maxStorageBufferBindingSize,
          'maxStorageBuffersPerShaderStage', a.limits.maxStorageBuffersPerShaderStage, 'maxComputeWorkgroupStorageSize', a.limits.maxComputeWorkgroupStorageSize);
        process.exit(0);") 2>&1
    } >"$out/env.txt" 2>&1; cat "$out/env.txt" ;;
    bench)
      # Throughput of the four book models on both devices (interleaved), scaling, kernels; no JS peers.
      (cd $gb && timeout 400 ./node bench.mjs $BENCH --only throughput,scaling,kernels --devices cpu,webgpu --peers none --gpu-timing \
        --data-dir $data --out /tmp/gb-results) >"$out/bench.log" 2>&1
      echo "bench exit $?" >>"$out/bench.log"
      cp /tmp/gb-results/latest*.md "$out/bench.md" 2>/dev/null; cp /tmp/gb-results/latest*.json "$out/bench.json" 2>/dev/null
      tail -60 "$out/bench.log" ;;
    profile)
      # Host-side per-kernel profile of concise RNN 256 on WebGPU (and on the CPU for contrast).
      { for dev in webgpu cpu; do
          echo "--- $tt --device $dev --model rnn --hidden $H256 --epochs $PROF_EPOCHS --profile"
          timeout 120 $tt --device $dev --model rnn --hidden $H256 --epochs $PROF_EPOCHS --profile
        done; } >"$out/profile.log" 2>&1; cat "$out/profile.log" ;;
    ppl)
      # Same seed, same batches: per-epoch perplexity on cpu and webgpu, then their largest relative difference.
      { for dev in cpu webgpu; do
          echo "--- $tt --device $dev --model rnn --hidden $H256 --epochs $PPL_EPOCHS --json"
          timeout 150 $tt --device $dev --model rnn --hidden $H256 --epochs $PPL_EPOCHS --json >/tmp/gb-ppl-$dev.jsonl
          tail -1 /tmp/gb-ppl-$dev.jsonl
        done
        python3 - <<'EOF'
import json
def load(d):
    return [r for r in map(json.loads, open(f'/tmp/gb-ppl-{d}.jsonl')) if 'epoch' in r]
c, g = load('cpu'), load('webgpu')
print('| epoch | perplexity (cpu) | perplexity (webgpu) | relative difference |')
print('| ---: | ---: | ---: | ---: |')
worst = 0
for a, b in zip(c, g):
    rel = abs(b['perplexity'] - a['perplexity']) / a['perplexity']; worst = max(worst, rel)
    print(f"| {a['epoch']} | {a['perplexity']:.4f} | {b['perplexity']:.4f} | {rel*100:.4f}% |")
print(f'largest relative difference: {worst*100:.4f}% over {len(c)} epochs')
EOF
      } >"$out/ppl.log" 2>&1; cat "$out/ppl.log" ;;
    torch)
      # PyTorch (d2l's own code path) on the same GPU: concise nn.RNN 256 and the scratch RNN 512.
      # cuDNN's RNN, GRU and LSTM (the concise model, 256 hidden) and the scratch RNN.
      { for m in "concise rnn" "concise gru" "concise lstm" "scratch rnn"; do
          set -- $m
          echo "--- TORCH_DEVICE=cuda python3 torch_rnn.py --model $1 --cell $2 --epochs $TORCH_EPOCHS"
          TIMEMACHINE=$data/timemachine.txt TORCH_DEVICE=cuda PYTHONUNBUFFERED=1 timeout 120 \
            python3 "$pack/ref/torch_rnn.py" --model $1 --cell $2 --epochs $TORCH_EPOCHS --print-every 5
        done; } >"$out/torch.log" 2>&1; cat "$out/torch.log" ;;
    layers)
      # One recurrent layer at hidden 256 to 2,048 along each path: agreement, wall and GPU time, dispatches.
      local hid=256,512,1024,2048; [ -n "${GB_SMALL:-}" ] && hid=8,40
      (cd $gb && TINYTAPE_GPU_TIMING=1 timeout 240 ./node layer-paths.mjs --hidden $hid --paths kernel,sequence,steps) >"$out/layers.log" 2>&1
      echo "layers exit $?" >>"$out/layers.log"; tail -45 "$out/layers.log" ;;
    paths)
      # The concise models on WebGPU with each recurrence path: one kernel per sequence (the default) against
      # the per-step form, the before and after of one dispatch per recurrent sequence on the same GPU.
      for path in ${GB_PATHS:-kernel sequence steps}; do
        rm -rf /tmp/gb-paths-$path
        (cd $gb && timeout 300 ./node bench.mjs $BENCH --only throughput --devices webgpu --peers none --gpu-timing \
          --models concise-rnn,concise-gru,concise-lstm,deep-bilstm --recurrence $path --data-dir $data \
          --out /tmp/gb-paths-$path) >"$out/paths-$path.log" 2>&1
        echo "paths $path exit $?" >>"$out/paths-$path.log"
        cp /tmp/gb-paths-$path/latest*.md "$out/paths-$path.md" 2>/dev/null
        tail -25 "$out/paths-$path.log"
      done ;;
    solo)
      # WebGPU alone (no CPU epochs in between), longer warm-up, while nvidia-smi samples the GPU every 100 ms.
      nvidia-smi --query-gpu=timestamp,utilization.gpu,clocks.sm,power.draw --format=csv -lms 100 >"$out/smi.csv" 2>&1 &
      local smi=$!
      rm -rf /tmp/gb-solo
      (cd $gb && timeout 200 ./node bench.mjs $BENCH --only throughput --devices webgpu --peers none --warmup 3 --epochs 10 \
        --data-dir $data --out /tmp/gb-solo) >"$out/solo.log" 2>&1
      echo "solo exit $?" >>"$out/solo.log"
      cp /tmp/gb-solo/latest*.md "$out/solo.md" 2>/dev/null
      # The CLI's own loop (d2l's train_ch8) for each book model, 20 epochs: per-epoch tokens/s.
      for m in "scratch $H512" "rnn $H256" "gru $H256" "lstm $H256"; do
        set -- $m
        echo "### $(date -u +%T.%N) --device webgpu --model $1 --hidden $2 --epochs $PPL_EPOCHS --json" >>"$out/cli.jsonl"
        timeout 120 $tt --device webgpu --model $1 --hidden $2 --epochs $PPL_EPOCHS --json >>"$out/cli.jsonl" 2>>"$out/solo.log"
      done
      echo "### $(date -u +%T.%N) end" >>"$out/cli.jsonl"
      kill $smi; tail -30 "$out/solo.log" ;;
    cpuprof)
      # Where the host time of a WebGPU step goes: V8's sampling profile of concise RNN 256, 20 epochs.
      rm -rf /tmp/gb-prof && mkdir -p /tmp/gb-prof
      (cd /tmp/gb-prof && timeout 120 $node --cpu-prof --cpu-prof-dir=/tmp/gb-prof --cpu-prof-interval 200 $gb/tinytape.mjs train \
        --data-dir $data --pred-period 1000 --device webgpu --model rnn --hidden $H256 --epochs $PPL_EPOCHS --quiet) 2>&1
      cp /tmp/gb-prof/*.cpuprofile "$out/webgpu-rnn256.cpuprofile" ;;
    *) echo "unknown step $step" >&2 ;;
    esac
  done
}

case ${1:-} in
prepare) prepare ;;
run) shift; run "$@" ;;
*) sed -n 2,12p "$0"; exit 2 ;;
esac
