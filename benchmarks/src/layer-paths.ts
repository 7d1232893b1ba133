/**
 * One recurrent layer on WebGPU along each recurrence path: how far the paths' outputs and gradients
 * differ, and what a forward and backward costs on each (wall time, GPU time, dispatches), at hidden
 * sizes up to 2,048. The book's shapes: batch 32, 35 steps, one-hot tokens of a 28-character
 * vocabulary. `scripts/gpu-bench.sh run layers` runs it on a lent GPU; locally (lavapipe) small sizes
 * make a smoke test:
 *
 *   node layer-paths.mjs [--hidden 256,512,1024,2048] [--cells rnn,gru,lstm] [--paths kernel,sequence,steps]
 *                        [--reps 7] [--batch 32] [--steps 35]
 *
 * Prints one JSON line per cell, size and path and a markdown table. The agreement column is the
 * largest |a − e| / max|e| over every output and gradient against the first path named.
 */
import { backward, zeroGrad } from '@tinytape/autograd';
import { GRU, LSTM, RNN, type RecurrencePath, type RecurrentLayer, recurrentForward } from '@tinytape/rnn';
import { type Tensor, type WebGPUBackend, Generator, concat, mul, releaseDevices, reshape, scope, sum, tensor, uniform, webgpu } from '@tinytape/tensor';

type Cell = 'rnn' | 'gru' | 'lstm';

function option(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}

const argv = process.argv.slice(2);
const hiddens = option(argv, 'hidden', '256,512,1024,2048').split(',').map(Number);
const cells = option(argv, 'cells', 'rnn,gru,lstm').split(',') as Cell[];
const paths = option(argv, 'paths', 'kernel,sequence').split(',') as RecurrencePath[];
const reps = Number(option(argv, 'reps', '7'));
const batch = Number(option(argv, 'batch', '32'));
const steps = Number(option(argv, 'steps', '35'));
const VOCAB = 28;

const device = await webgpu();
const gpu = device.backend as unknown as WebGPUBackend;

interface Row {
  cell: Cell;
  hidden: number;
  path: RecurrencePath;
  wallMs: number;
  gpuMs: number | null;
  dispatches: number;
  agreement: number;
}

/** The layer, its token input and fixed random weights for the output and state gradients. */
function setup(cell: Cell, hidden: number) {
  const g = new Generator(7);
  const Layer = cell === 'rnn' ? RNN : cell === 'gru' ? GRU : LSTM;
  const layer = new Layer(VOCAB, hidden, { device, generator: g }) as RecurrentLayer<unknown>;
  const ids = Int32Array.from({ length: batch * steps }, (_, i) => (i * 7 + (i >> 3)) % VOCAB);
  const x = tensor(ids, { shape: [batch, steps], dtype: 'int32', device });
  const h0 = uniform([1, batch, hidden], -1, 1, { device, generator: g });
  const c0 = cell === 'lstm' ? uniform([1, batch, hidden], -1, 1, { device, generator: g }) : undefined;
  const outputs = steps * batch * hidden + batch * hidden * (cell === 'lstm' ? 2 : 1);
  const mix = uniform([outputs], -1, 1, { device, generator: g });
  return { layer, x, h0, c0, mix };
}

/** Forward and backward along `path`; returns the outputs (the caller disposes them) and the weight gradients. */
function pass(s: ReturnType<typeof setup>, path: RecurrencePath): Tensor[] {
  return scope(() => {
    const weights = s.layer.parameters();
    const { output, h, c } = recurrentForward(s.layer.spec, weights, s.x, s.h0, s.c0, { path });
    const all = concat([output, h, ...(c ? [c] : [])].map((t) => reshape(t, [-1])));
    backward(sum(mul(all, s.mix)));
    return [output, h, ...(c ? [c] : []), ...weights.map((w) => w.grad!)];
  });
}

function relativeError(a: Float32Array, e: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]!));
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!));
  return worst / (scale || 1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const rows: Row[] = [];
for (const hidden of hiddens) {
  for (const cell of cells) {
    const s = setup(cell, hidden);
    const weights = s.layer.parameters();
    // Agreement, which also compiles every pipeline before the timed passes.
    const results: Float32Array[][] = [];
    for (const path of paths) {
      const out = pass(s, path);
      results.push((await Promise.all(out.map((t) => t.toArray()))) as Float32Array[]);
      out.slice(0, out.length - weights.length).forEach((t) => t.dispose());
      zeroGrad(weights);
    }
    const agreement = results.map((r) => Math.max(...r.map((a, i) => relativeError(a, results[0]![i]!))));
    // Timed passes, the paths alternating; each ends with a one-float readback of W_hh's gradient sum.
    const wall = paths.map(() => [] as number[]);
    const kernel = paths.map(() => [] as number[]);
    const dispatches = paths.map(() => 0);
    for (let r = 0; r < reps; r++) {
      for (let p = 0; p < paths.length; p++) {
        if (gpu.timing) await gpu.gpuTime();
        const before = gpu.stats().dispatches;
        const start = performance.now();
        const out = pass(s, paths[p]!);
        const total = sum(weights[1]!.grad!);
        await total.item();
        wall[p]!.push(performance.now() - start);
        dispatches[p] = gpu.stats().dispatches - before;
        if (gpu.timing) kernel[p]!.push((await gpu.gpuTime()).ms);
        total.dispose();
        out.slice(0, out.length - weights.length).forEach((t) => t.dispose());
        zeroGrad(weights);
      }
    }
    paths.forEach((path, p) => {
      const row: Row = {
        cell,
        hidden,
        path,
        wallMs: median(wall[p]!),
        gpuMs: gpu.timing ? median(kernel[p]!) : null,
        dispatches: dispatches[p]!,
        agreement: agreement[p]!,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    });
    for (const t of [...weights, s.x, s.h0, s.mix, ...(s.c0 ? [s.c0] : [])]) t.dispose();
  }
}

console.log(`\nOne layer, forward and backward, batch ${batch}, ${steps} steps, median of ${reps} (${device.description})\n`);
console.log('| cell | hidden | path | wall ms | GPU ms | dispatches | max rel. diff vs ' + paths[0] + ' |');
console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.cell} | ${r.hidden} | ${r.path} | ${r.wallMs.toFixed(2)} | ${r.gpuMs === null ? '–' : r.gpuMs.toFixed(2)} | ${r.dispatches} | ${r.agreement.toExponential(1)} |`);
}
releaseDevices();
