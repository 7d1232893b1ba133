/**
 * Single-op figures on each tinytape device: matmul GFLOP/s at the RNN's shapes, elementwise and
 * reduction GB/s, and the fixed cost of one op (per-dispatch overhead on WebGPU) and of a readback.
 *
 * WebGPU work is queued and runs later, so every timed region ends with a readback of the last
 * result: a batch of k ops is timed as a whole, up to and including `await out.toArray()`, and divided
 * by k, with k grown until a batch takes long enough that the one readback is a small share of it.
 */
import { type Device, type Tensor, add, axpy_, matmul, randn, scope, sum, tanh } from '@tinytape/tensor';
import type { DeviceName } from '../args.ts';
import { errorLine } from '../contender.ts';
import { log } from '../log.ts';
import type { MatmulShape, Plan } from '../plan.ts';
import { median } from '../stats.ts';
import { gpuBackend } from '../tinytape.ts';
import type { Devices } from './throughput.ts';

export interface KernelRow {
  device: DeviceName;
  family: 'matmul' | 'elementwise' | 'reduction' | 'overhead';
  name: string;
  /** Median milliseconds of one op (or one readback). */
  ms?: number;
  gflops?: number;
  gbps?: number;
  /** Per-dispatch figures: µs per op and dispatches/submits counted over the timed loop. */
  usPerOp?: number;
  dispatchesPerOp?: number;
  submitsPerOp?: number;
  note?: string;
}

/** A batch of k ops takes at least this long before it is timed, so one readback is a small share. */
const TARGET_BATCH_MS = 20;

/**
 * Milliseconds per op of `op`, over batches of k calls each ending with a readback of the last
 * result. `op` returns a new tensor each call (disposed as the next one is made), or with `inPlace`
 * the tensor it updated.
 */
async function timeOp(op: () => Tensor, minMs: number, minReps: number, inPlace = false): Promise<number> {
  const batch = async (k: number): Promise<number> => {
    const t0 = performance.now();
    let last: Tensor | null = null;
    for (let i = 0; i < k; i++) {
      const out = scope(op);
      if (!inPlace) last?.dispose();
      last = out;
    }
    await last!.toArray();
    const ms = performance.now() - t0;
    if (!inPlace) last!.dispose();
    return ms;
  };
  await batch(1); // compiles the pipeline, fills the buffer pool
  let k = 1;
  let first: number;
  while ((first = await batch(k)) < TARGET_BATCH_MS && k < 4096) k *= 2;
  // The batch that reached the target is the first sample: a slow op (1024³ on a software GPU) then
  // costs one warm-up and `minReps` runs, not more.
  const samples = [first];
  const start = performance.now();
  while (samples.length < minReps || performance.now() - start < minMs) samples.push(await batch(k));
  return median(samples) / k;
}

async function matmulRow(device: Device, name: DeviceName, s: MatmulShape, minMs: number, minReps: number): Promise<KernelRow> {
  const row: KernelRow = { device: name, family: 'matmul', name: s.label };
  if (name === 'cpu' && s.skipCpu) return { ...row, note: 'skipped on the CPU in quick mode' };
  // transA reads a [k, m] operand as its transpose, as the backward pass does for Hᵀ·dH.
  const a = randn(s.transA ? [s.k, s.m] : [s.m, s.k], { device });
  const b = randn([s.k, s.n], { device });
  try {
    const ms = await timeOp(() => matmul(a, b, { transA: s.transA }), minMs, minReps);
    return { ...row, ms, gflops: (2 * s.m * s.k * s.n) / (ms * 1e6) };
  } finally {
    a.dispose();
    b.dispose();
  }
}

async function bandwidthRows(device: Device, name: DeviceName, n: number, minMs: number, minReps: number): Promise<KernelRow[]> {
  const x = randn([n], { device });
  const y = randn([n], { device });
  const m = randn([n / 1024, 1024], { device });
  const rows: KernelRow[] = [];
  // Bytes moved: every operand read once and the result written once, 4 bytes an element.
  const bw = (family: KernelRow['family'], label: string, ms: number, bytes: number): KernelRow => ({
    device: name, family, name: label, ms, gbps: bytes / (ms * 1e6),
  });
  try {
    rows.push(bw('elementwise', `add [${n}] + [${n}]`, await timeOp(() => add(x, y), minMs, minReps), 12 * n));
    rows.push(bw('elementwise', `tanh [${n}]`, await timeOp(() => tanh(x), minMs, minReps), 8 * n));
    // In place, no allocation: SGD's update (y += α·x reads both and writes y).
    const axpy = await timeOp(() => axpy_(y, x, 1e-9), minMs, minReps, true);
    rows.push(bw('elementwise', `axpy_ [${n}] (in place)`, axpy, 12 * n));
    rows.push(bw('reduction', `sum [${n}] → scalar`, await timeOp(() => sum(x), minMs, minReps), 4 * n));
    rows.push(bw('reduction', `sum [${n / 1024},1024] axis 1`, await timeOp(() => sum(m, 1), minMs, minReps), 4 * n + 4 * (n / 1024)));
    rows.push(bw('reduction', `sum [${n / 1024},1024] axis 0`, await timeOp(() => sum(m, 0), minMs, minReps), 4 * n + 4 * 1024));
  } finally {
    x.dispose();
    y.dispose();
    m.dispose();
  }
  return rows;
}

/**
 * The fixed cost of an op: `reps` one-element in-place updates (one kernel each, no allocation)
 * followed by one readback, less the time of a readback alone; plus the readback latency itself, and
 * the round trip of one op and its readback (what a training step would pay for reading a value).
 */
async function overheadRows(device: Device, name: DeviceName, reps: number): Promise<KernelRow[]> {
  // randn, not zeros: a never-written WebGPU buffer is read back as zeros without touching the GPU.
  const y = randn([1], { device });
  const x = randn([1], { device });
  const gpu = gpuBackend(device);
  const medianMs = async (n: number, f: () => Promise<void>): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await f();
      samples.push(performance.now() - t0);
    }
    return median(samples);
  };
  try {
    axpy_(y, x, 1);
    await y.toArray();
    const readbackMs = await medianMs(20, async () => {
      await y.toArray();
    });
    const roundTripMs = await medianMs(20, async () => {
      axpy_(y, x, 1);
      await y.toArray();
    });
    let dispatches = Number.NaN;
    let submits = Number.NaN;
    const loopMs = await medianMs(5, async () => {
      const before = gpu?.stats();
      for (let i = 0; i < reps; i++) axpy_(y, x, 1);
      await y.toArray();
      const after = gpu?.stats();
      if (before && after) {
        dispatches = (after.dispatches - before.dispatches) / reps;
        submits = (after.submits - before.submits) / reps;
      }
    });
    const perOpMs = Math.max(0, loopMs - readbackMs) / reps;
    const row = (label: string, ms: number): KernelRow => ({ device: name, family: 'overhead', name: label, ms, usPerOp: ms * 1000 });
    const opRow = row(`tiny op ×${reps}, then one readback: per op`, perOpMs);
    if (gpu !== null) Object.assign(opRow, { dispatchesPerOp: dispatches, submitsPerOp: submits });
    return [opRow, row('readback of one float, nothing pending', readbackMs), row('one tiny op + its readback (round trip)', roundTripMs)];
  } finally {
    x.dispose();
    y.dispose();
  }
}

export async function runKernels(plan: Plan['kernels'], devices: Devices): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  for (const [name, device] of Object.entries(devices) as [DeviceName, Device | string][]) {
    if (typeof device === 'string') continue;
    const guard = async (what: string, f: () => Promise<KernelRow | KernelRow[]>) => {
      try {
        const r = await f();
        for (const row of Array.isArray(r) ? r : [r]) {
          rows.push(row);
          const fig = row.gflops !== undefined ? `${row.gflops.toFixed(2)} GFLOP/s` : row.gbps !== undefined ? `${row.gbps.toFixed(2)} GB/s` : row.usPerOp !== undefined ? `${row.usPerOp.toFixed(1)} µs` : row.note ?? '';
          log(`[kernels ${name}] ${row.name}: ${fig}`);
        }
      } catch (error) {
        rows.push({ device: name, family: 'overhead', name: what, note: `failed: ${errorLine(error)}` });
        log(`[kernels ${name}] ${what} failed: ${errorLine(error)}`);
      }
    };
    for (const s of plan.matmul) await guard(s.label, () => matmulRow(device, name, s, plan.minMs, plan.minReps));
    await guard('elementwise and reductions', () => bandwidthRows(device, name, plan.elementwiseSize, plan.minMs, plan.minReps));
    await guard('per-op overhead', () => overheadRows(device, name, plan.dispatchReps));
  }
  return rows;
}
