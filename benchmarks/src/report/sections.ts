/** Turns a Report into the blocks that both the terminal table and the markdown file show. */
import type { KernelRow } from '../families/kernels.ts';
import type { ScalingPoint } from '../families/scaling.ts';
import type { ThroughputResult } from '../families/throughput.ts';
import type { MemorySnapshot } from '../contender.ts';
import type { ContenderRun, LiveTensorCounts } from '../interleave.ts';
import { WEBGPU } from '../targets.ts';
import type { Block } from './document.ts';
import type { Report } from './types.ts';

/** Perplexities within this relative difference count as agreeing (same init, data and float32 math). */
export const AGREEMENT_TOLERANCE = 0.01;

const num = (x: number | undefined, digits = 0): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sig = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? num(x, 0) : x >= 10 ? num(x, 1) : x >= 1 ? num(x, 2) : num(x, 3);
const times = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${sig(x)}×`);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.001 ? 4 : 2)}%`;

export function reportBlocks(r: Report): Block[] {
  const m = r.machine;
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: `tinytape benchmarks (${r.mode}) — ${m.date.slice(0, 10)}` },
    {
      kind: 'list',
      items: [
        `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}`,
        `load: other processes kept ${m.otherProcessesCores?.toFixed(2) ?? '–'} of ${m.cores} cores busy on average during the run; ` +
          `1-minute load average ${m.loadAverageStart.toFixed(2)} at start, ${m.loadAverageEnd?.toFixed(2) ?? '–'} at end (this run's own threads included)`,
        `WebGPU adapter: ${m.adapter}${m.softwareAdapter ? ' (a software GPU: WGSL kernels run on the CPU cores)' : ''}`,
        `Node ${m.node}; tinytape ${m.tinytape} (commit ${m.commit}); ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(', ') || 'no peers loaded'}`,
        // A run narrowed with --only, --models, --devices or --peers must say so, or it reads as a full report.
        `ran: ${r.args.families.join(', ')}; throughput models ${r.args.models.join(', ')}; devices ${r.args.devices.join(', ')}; peers ${r.args.peers.join(', ') || 'none'}`,
        `date: ${m.date}; run took ${Math.round(r.seconds)} s; seed ${r.args.seed}`,
      ],
    },
  ];
  if (r.notes.length > 0) blocks.push({ kind: 'heading', level: 2, text: 'Notes' }, { kind: 'list', items: r.notes });
  if (r.throughput.length > 0) blocks.push(...throughputBlocks(r.throughput));
  if (r.scaling.length > 0) blocks.push(...scalingBlocks(r.scaling));
  if (r.kernels.length > 0) blocks.push(...kernelBlocks(r.kernels));
  blocks.push(...memoryBlocks(r));
  return blocks;
}

function throughputBlocks(results: ThroughputResult[]): Block[] {
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: 'Training throughput' },
    {
      kind: 'text',
      text:
        'tokens/s as d2l defines it (tokens of an epoch / wall time of the epoch, its one loss readback included), median of the ' +
        'measured epochs after the warm-up. Contenders run interleaved, one epoch each per round, on the same batches from the same ' +
        'initial parameters; "a ÷ this" is the median over rounds of a\'s tokens/s divided by this contender\'s in the same round. ' +
        'scratch-rnn is d2l §8.5\'s model; concise-rnn, concise-gru and concise-lstm are §8.6\'s RNNModel around nn.RNN, nn.GRU ' +
        'and nn.LSTM (PyTorch\'s equations and layout); deep-bilstm is the RNNModel around a 2-layer bidirectional LSTM ' +
        '(d2l §9.3/§9.4 layers), which only tinytape runs. GFLOP/s = tokens/s × FLOPs per token, 3 × 2·(G·(H·H + H·V) + H·V) ' +
        'with G gate blocks (1 for an RNN, 3 for a GRU, 4 for an LSTM) and V the vocabulary; for the 2-layer bidirectional ' +
        'LSTM both directions of both layers count, the second layer reading the 2·H outputs of the first and the output ' +
        'layer 2·H features: 3 × 2·(2·G·(H·V + H·H) + 2·G·(2H·H + H·H) + 2H·V) with G = 4.',
    },
  ];
  const summary = summaryTable(results);
  if (summary !== null) blocks.push({ kind: 'heading', level: 3, text: 'Summary: tokens/s (tinytape/cpu ÷ contender)' }, summary);
  blocks.push(...targetBlocks(results));
  for (const t of results) {
    blocks.push({ kind: 'heading', level: 3, text: `${t.label} — lr ${t.config.lr}, clip ${t.config.clip}, ${t.tokensPerEpoch} tokens/epoch, ${t.epochPlan.warmup} warm-up + ${plural(t.epochPlan.epochs, 'measured epoch')}` });
    const ours = t.runs.filter((r) => !r.isPeer && r.status === 'ok');
    const ratioTo = (of: string, to: string) => t.ratios.find((x) => x.of === of && x.to === to)?.ratio;
    const headers = ['contender', 'tokens/s', 'min–max', 'GFLOP/s', `perplexity`, 'Δ ppl vs ref', ...ours.map((o) => `${o.name} ÷ this`)];
    const rows = t.runs.map((run) => {
      const agree = t.agreement.find((a) => a.name === run.name);
      if (run.status !== 'ok') return [run.name, 'failed (see notes)', '', '', '', '', ...ours.map(() => '')];
      return [
        run.name,
        num(run.tokensPerSec),
        `${num(run.tokensPerSecRange[0])}–${num(run.tokensPerSecRange[1])}`,
        sig(run.gflops),
        run.finalPerplexity.toFixed(3),
        agree ? `${pct(agree.relDiff)}${agree.relDiff > AGREEMENT_TOLERANCE ? ' DIFFERS' : ''}` : 'ref',
        ...ours.map((o) => (o === run ? '1×' : times(ratioTo(o.name, run.name) ?? inverse(ratioTo(run.name, o.name))))),
      ];
    });
    // Reasons are long: the notes at the top carry them, the table only says what happened.
    for (const s of t.skipped) rows.push([s.name, 'skipped (see notes)', '', '', '', '', ...ours.map(() => '')]);
    blocks.push({ kind: 'table', headers, rows, align: ['l', 'r', 'r', 'r', 'r', 'r', ...ours.map(() => 'r' as const)] });
    if (t.peersLeftOut.length > 0) {
      const why =
        t.config.peers?.length === 0
          ? "tinytape only: the peers here implement one-layer, one-direction models (see plan.ts)"
          : 'left out by the plan to keep the run short (see plan.ts); the quick run has every peer on every one-layer model';
      blocks.push({ kind: 'text', text: `Not run on this config: ${t.peersLeftOut.join(', ')} — ${why}.` });
    }
    const ref = t.agreement[0]?.reference;
    if (ref !== undefined) {
      blocks.push({
        kind: 'text',
        text:
          `Perplexity after ${plural(t.agreement[0]!.epochs, 'epoch')}; Δ is relative to ${ref} (same initial parameters` +
          `${t.config.model === 'scratch-rnn' ? ', drawn N(0, 0.01²)' : ", drawn U(±1/√H) as PyTorch's layers do"}` +
          `${t.config.model !== 'scratch-rnn' && t.runs.some((r) => r.isPeer) ? ", copied to the peers in PyTorch's layout" : ''}` +
          `, same batches, lr ${t.config.lr}, clip ${t.config.clip}); above ${pct(AGREEMENT_TOLERANCE)} is flagged DIFFERS.`,
      });
    }
    const gpuRuns = t.runs.filter((r) => r.gpu !== undefined);
    if (gpuRuns.length > 0) {
      // The GPU time columns appear only when a run was timed (`--gpu-timing`).
      const timed = gpuRuns.some((r) => r.gpu!.kernelMsPerStep !== undefined);
      blocks.push({
        kind: 'table',
        headers: [
          'WebGPU per training step',
          'dispatches',
          'target',
          'submits',
          'readbacks (must be 0)',
          'pipelines compiled (measured epochs)',
          ...(timed ? ['GPU kernel ms (timestamps)', 'wall ms'] : []),
        ],
        rows: gpuRuns.map((r) => [
          r.name,
          sig(r.gpu!.dispatchesPerStep),
          targetCell(r.gpu!.dispatchesPerStep, r.gpu!.dispatchTarget),
          sig(r.gpu!.submitsPerStep),
          num(r.gpu!.readbacksPerStep, 0),
          num(r.gpu!.pipelines),
          ...(timed ? [sig(r.gpu!.kernelMsPerStep), sig(r.gpu!.wallMsPerStep)] : []),
        ]),
        align: ['l', 'r', 'r', 'r', 'r', 'r', ...(timed ? (['r', 'r'] as const) : [])],
      });
    }
    if (t.webgpuCpu !== undefined) blocks.push({ kind: 'text', text: `webgpu ÷ cpu: ${ratioCell(t.webgpuCpu.ratio, t.webgpuCpu.floor)}${t.webgpuCpu.floor === null ? ' (no floor)' : ` (floor ${t.webgpuCpu.floor})`}.` });
    blocks.push(memoryTable(t.runs), { kind: 'text', text: liveTensorLine(t.liveTensors) });
  }
  return blocks;
}

/**
 * One row per contender, one column per config: its tokens/s and, beside it, how many times faster
 * tinytape on the CPU was in the same rounds — the figures the README quotes.
 */
function summaryTable(results: ThroughputResult[]): Block | null {
  if (results.length < 2) return null;
  const names = [...new Set(results.flatMap((t) => [...t.runs.map((r) => r.name), ...t.skipped.map((s) => s.name)]))];
  const cell = (t: ThroughputResult, name: string): string => {
    const run = t.runs.find((r) => r.name === name);
    if (run === undefined) return t.skipped.some((s) => s.name === name) ? 'skipped' : t.peersLeftOut.some((p) => p === name) ? 'not run' : '–';
    if (run.status !== 'ok') return 'failed';
    const ratioOf = (of: string, to: string) => t.ratios.find((x) => x.of === of && x.to === to)?.ratio;
    if (name === 'tinytape/cpu') return `${num(run.tokensPerSec)} (1×)`;
    return `${num(run.tokensPerSec)} (${times(ratioOf('tinytape/cpu', name) ?? inverse(ratioOf(name, 'tinytape/cpu')))})`;
  };
  return {
    kind: 'table',
    headers: ['contender', ...results.map((t) => `${t.config.model} H=${t.config.hidden}`)],
    rows: names.map((name) => [name, ...results.map((t) => cell(t, name))]),
    align: ['l', ...results.map(() => 'r' as const)],
  };
}

/** "≤ 20 (met)", "≤ 20 (OVER)", or "none" for a model without a dispatch target. */
function targetCell(measured: number, target: number | null | undefined): string {
  if (target === undefined || target === null) return 'none';
  return `≤ ${target} (${measured <= target ? 'met' : 'OVER'})`;
}

/** The WebGPU ÷ CPU ratio, flagged when below its floor. */
function ratioCell(ratio: number, floor: number | null): string {
  return `${sig(ratio)}${floor !== null && ratio < floor ? ' BELOW FLOOR' : ''}`;
}

/**
 * One row per model with a WebGPU run: dispatches per step against the target (what `--strict` fails
 * on) and WebGPU ÷ CPU tokens/s against the quick bench's floor (only ever a warning); see targets.ts.
 */
function targetBlocks(results: ThroughputResult[]): Block[] {
  const rows = results.flatMap((t) => {
    const run = t.runs.find((r) => r.name === WEBGPU && r.gpu !== undefined);
    if (run === undefined && t.webgpuCpu === undefined) return [];
    const gpu = run?.gpu;
    return [[
      `${t.config.model} H=${t.config.hidden}`,
      gpu === undefined ? '–' : sig(gpu.dispatchesPerStep),
      gpu === undefined ? '–' : targetCell(gpu.dispatchesPerStep, gpu.dispatchTarget),
      t.webgpuCpu === undefined ? '–' : ratioCell(t.webgpuCpu.ratio, t.webgpuCpu.floor),
      t.webgpuCpu?.floor === null || t.webgpuCpu === undefined ? '–' : String(t.webgpuCpu.floor),
    ]];
  });
  if (rows.length === 0) return [];
  return [
    { kind: 'heading', level: 3, text: 'WebGPU targets' },
    {
      kind: 'text',
      text:
        'Dispatches per training step against the target from the project\'s issue (one dispatch per recurrent sequence; ' +
        '--strict fails above it), and tinytape/webgpu ÷ tinytape/cpu tokens/s against the quick bench\'s floor (timings ' +
        'drift, so below it is only a warning).',
    },
    {
      kind: 'table',
      headers: ['model', 'dispatches/step', 'target', 'webgpu ÷ cpu', 'floor'],
      rows,
      align: ['l', 'r', 'r', 'r', 'r'],
    },
  ];
}

/** tinytape's global live-tensor count over a run; the count after freeing must be the one before. */
export function liveTensorLine(c: LiveTensorCounts): string {
  const leak = c.afterDispose !== c.before ? ` — ${c.afterDispose - c.before} LEFT BEHIND` : '';
  return `tinytape live tensors (all devices): ${c.before} before the run, ${c.start} at its start, ${c.end} at its end, ${c.afterDispose} after freeing the models${leak}.`;
}

function inverse(x: number | undefined): number | undefined {
  return x === undefined ? undefined : 1 / x;
}

/** Device buffers at the start, after the first epoch and at the end of each run, and the live-tensor change per epoch. */
function memoryTable(runs: ContenderRun[]): Block {
  const fmt = (s: MemorySnapshot | undefined) => (s?.buffers === undefined ? '–' : num(s.buffers));
  const mib = (s: MemorySnapshot | undefined) => (s?.bytes === undefined ? '–' : sig(s.bytes / 2 ** 20));
  return {
    kind: 'table',
    headers: ['memory: device buffers', 'start', 'after epoch 1', 'end', 'MiB at end', 'live tensors gained per epoch (after epoch 1)'],
    rows: runs.map((r) => [
      r.name,
      fmt(r.memory.start),
      fmt(r.memory.afterFirstEpoch),
      fmt(r.memory.end),
      mib(r.memory.end),
      r.liveTensorGrowth === undefined ? 'not counted' : r.liveTensorGrowth === 0 ? '0' : `${r.liveTensorGrowth} LEAK`,
    ]),
    align: ['l', 'r', 'r', 'r', 'r', 'r'],
  };
}

function scalingBlocks(points: ScalingPoint[]): Block[] {
  const names = [...new Set(points.flatMap((p) => p.runs.map((r) => r.name)))];
  const table = (sweep: 'hidden' | 'batch'): Block => {
    const rows = points
      .filter((p) => p.sweeps.includes(sweep))
      .sort((a, b) => (sweep === 'hidden' ? a.config.hidden - b.config.hidden : a.config.batchSize - b.config.batchSize))
      .map((p) => {
        const cells = [String(sweep === 'hidden' ? p.config.hidden : p.config.batchSize), sig(p.flopsPerToken / 1e6)];
        for (const n of names) {
          const run = p.runs.find((r) => r.name === n);
          if (run === undefined || run.status !== 'ok') cells.push(run?.note ? 'failed' : '–', '–');
          else cells.push(num(run.tokensPerSec), sig(run.gflops));
        }
        return cells;
      });
    return {
      kind: 'table',
      headers: [sweep === 'hidden' ? 'hidden H' : 'batch B', 'MFLOP/token', ...names.flatMap((n) => [`${n} tokens/s`, `${n} GFLOP/s`])],
      rows,
      align: ['r', 'r', ...names.flatMap(() => ['r', 'r'] as const)],
    };
  };
  const base = points[0]!.config;
  return [
    { kind: 'heading', level: 2, text: 'Scaling' },
    {
      kind: 'text',
      text:
        `FLOPs per token ≈ 3 × 2·(H·H + 2·H·V), V = vocabulary (28): forward matmuls by W_xh, W_hh, W_hq, backward twice that. ` +
        `Achieved GFLOP/s = tokens/s × FLOPs per token. ${base.numSteps} steps, ${base.maxTokens} tokens; devices interleaved per point.`,
    },
    { kind: 'heading', level: 3, text: `hidden size (batch ${points.find((p) => p.sweeps.includes('hidden'))?.config.batchSize ?? '–'})` },
    table('hidden'),
    { kind: 'heading', level: 3, text: `batch size (hidden ${points.find((p) => p.sweeps.includes('batch'))?.config.hidden ?? '–'})` },
    table('batch'),
    {
      kind: 'text',
      text: points.every((p) => p.liveTensors === undefined || p.liveTensors.afterDispose === p.liveTensors.before)
        ? 'tinytape live tensors: every point freed everything it created.'
        : points.filter((p) => p.liveTensors && p.liveTensors.afterDispose !== p.liveTensors.before).map((p) => `H=${p.config.hidden} B=${p.config.batchSize}: ${liveTensorLine(p.liveTensors!)}`).join(' '),
    },
  ];
}

function kernelBlocks(rows: KernelRow[]): Block[] {
  const devices = [...new Set(rows.map((r) => r.device))];
  const names = [...new Set(rows.map((r) => `${r.family}\u0000${r.name}`))];
  const figure = (r: KernelRow | undefined): string => {
    if (r === undefined) return '–';
    if (r.note !== undefined) return r.note;
    if (r.gflops !== undefined) return `${sig(r.gflops)} GFLOP/s`;
    if (r.gbps !== undefined) return `${sig(r.gbps)} GB/s`;
    const extra = r.dispatchesPerOp !== undefined ? ` (${sig(r.dispatchesPerOp)} dispatch, ${sig(r.submitsPerOp)} submit per op)` : '';
    return r.usPerOp !== undefined ? `${sig(r.usPerOp)} µs${extra}` : '–';
  };
  const time = (r: KernelRow | undefined) => (r?.ms === undefined ? '–' : `${sig(r.ms)} ms`);
  return [
    { kind: 'heading', level: 2, text: 'Kernels' },
    {
      kind: 'text',
      text:
        'Each figure is the median over batches of k calls, each batch ending with a readback of its last result (WebGPU work is ' +
        'asynchronous). Elementwise and reduction GB/s count every operand read once and the result written once. Per-op ' +
        'overhead: a one-element in-place update repeated, then one readback, less a readback alone.',
    },
    {
      kind: 'table',
      headers: ['kernel', ...devices.flatMap((d) => [`${d} time`, d])],
      rows: names.map((key) => {
        const [family, name] = key.split('\u0000') as [string, string];
        return [`${family}: ${name}`, ...devices.flatMap((d) => {
          const r = rows.find((x) => x.device === d && x.family === family && x.name === name);
          return [time(r), figure(r)];
        })];
      }),
      align: ['l', ...devices.flatMap(() => ['r', 'r'] as const)],
    },
  ];
}

function memoryBlocks(r: Report): Block[] {
  return [
    { kind: 'heading', level: 2, text: 'Process memory' },
    {
      kind: 'table',
      headers: ['after', 'peak RSS (MiB)', 'RSS (MiB)'],
      rows: r.memory.samples.map((s) => [s.after, num(s.peakRssMiB), num(s.rssMiB)]),
      align: ['l', 'r', 'r'],
    },
  ];
}
