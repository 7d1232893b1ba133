/**
 * Runs contenders one epoch each, round after round (A, B, C, then B, C, A, ...), all on the same
 * batches, so that every contender sees the same machine load within a round and ratios can be
 * taken round by round. The first `warmup` rounds are run and recorded but not measured.
 */
import { engine } from '@tinytape/tensor';
import type { Contender, EpochResult, GpuEpochCounters, MemorySnapshot } from './contender.ts';
import { errorLine } from './contender.ts';
import { log } from './log.ts';
import type { EpochPlan } from './plan.ts';
import { median, pairedRatio, range } from './stats.ts';
import type { Workload } from './workload.ts';

/** What one contender did in one interleaved run. */
export interface ContenderRun {
  name: string;
  isPeer: boolean;
  status: 'ok' | 'failed';
  note?: string;
  /** Every epoch, warm-up first. */
  epochs: EpochResult[];
  warmup: number;
  /** Median tokens/s over the measured epochs. */
  tokensPerSec: number;
  /** Smallest and largest measured tokens/s. */
  tokensPerSecRange: [number, number];
  /** Measured tokens/s × FLOPs per token. */
  gflops: number;
  /** Perplexity of the last epoch. */
  finalPerplexity: number;
  memory: { start: MemorySnapshot; afterFirstEpoch?: MemorySnapshot; end?: MemorySnapshot };
  /**
   * Largest change in the library's live-tensor count across one epoch, after the first epoch
   * (which creates the gradients once). Anything but 0 is a leak.
   */
  liveTensorGrowth?: number;
  /**
   * Median WebGPU counters per step over the measured epochs, and the most dispatches per step the
   * model may need (targets.ts, written in by the caller; null when the model has none).
   */
  gpu?: GpuEpochCounters & { dispatchTarget?: number | null };
}

/** A contender that could not be created: reported with its reason. */
export interface SkippedContender {
  name: string;
  reason: string;
}

export interface RatioRow {
  /** tokens/s of `of` divided by tokens/s of `to`, the median of per-round ratios. */
  of: string;
  to: string;
  ratio: number;
}

export interface AgreementRow {
  name: string;
  reference: string;
  epochs: number;
  perplexity: number;
  referencePerplexity: number;
  /** |ppl − ref| / ref. */
  relDiff: number;
}

/**
 * tinytape's live-tensor count (all devices together): before the run's contenders were created, at
 * its start, at its end, and after the contenders were freed — which must equal `before`.
 */
export interface LiveTensorCounts {
  before: number;
  start: number;
  end: number;
  afterDispose: number;
}

export interface InterleavedRun {
  runs: ContenderRun[];
  skipped: SkippedContender[];
  ratios: RatioRow[];
  agreement: AgreementRow[];
  liveTensors: LiveTensorCounts;
}

/**
 * Runs `contenders` on `work` for warm-up plus measured epochs, interleaved, then frees them.
 * A contender that throws is marked failed and drops out; the others go on.
 */
export async function runInterleaved(
  label: string,
  contenders: Contender[],
  work: Workload,
  plan: EpochPlan,
  flopsPerToken: number,
  /** engine.liveTensors before the contenders were created. */
  liveTensorsBefore: number,
): Promise<Omit<InterleavedRun, 'skipped'>> {
  const liveTensorsStart = engine.liveTensors;
  const runs = contenders.map((c): ContenderRun => ({
    name: c.name,
    isPeer: c.isPeer,
    status: 'ok',
    epochs: [],
    warmup: plan.warmup,
    tokensPerSec: Number.NaN,
    tokensPerSecRange: [Number.NaN, Number.NaN],
    gflops: Number.NaN,
    finalPerplexity: Number.NaN,
    memory: { start: c.memory() },
  }));
  const total = plan.warmup + plan.epochs;
  for (let round = 0; round < total; round++) {
    const batches = work.epochBatches(round);
    for (let j = 0; j < contenders.length; j++) {
      // Rotating the order moves each contender through every position in a round, so none is
      // always the first (or last) to run.
      const i = (j + round) % contenders.length;
      const c = contenders[i]!;
      const run = runs[i]!;
      if (run.status !== 'ok') continue;
      try {
        const r = await c.epoch(batches);
        run.epochs.push(r);
        if (round === 0) run.memory.afterFirstEpoch = c.memory();
        const tag = round < plan.warmup ? 'warm-up' : `epoch ${round - plan.warmup + 1}/${plan.epochs}`;
        log(`${label} ${tag} ${c.name}: ${Math.round(r.tokensPerSec)} tokens/s, perplexity ${r.perplexity.toFixed(3)}`);
      } catch (error) {
        run.status = 'failed';
        run.note = errorLine(error);
        log(`${label} ${c.name} failed: ${run.note}`);
      }
    }
  }
  // Every end snapshot before any contender frees its memory.
  contenders.forEach((c, i) => {
    if (runs[i]!.status === 'ok') runs[i]!.memory.end = c.memory();
  });
  const liveTensorsEnd = engine.liveTensors;
  for (let i = 0; i < contenders.length; i++) {
    const run = runs[i]!;
    const c = contenders[i]!;
    summarise(run, flopsPerToken);
    try {
      await c.dispose();
    } catch (error) {
      log(`${label} ${c.name}: dispose failed: ${errorLine(error)}`);
    }
  }
  const liveTensors = { before: liveTensorsBefore, start: liveTensorsStart, end: liveTensorsEnd, afterDispose: engine.liveTensors };
  return { runs, ratios: ratios(runs), agreement: agreement(runs), liveTensors };
}

function measured(run: ContenderRun): EpochResult[] {
  return run.epochs.slice(run.warmup);
}

function summarise(run: ContenderRun, flopsPerToken: number): void {
  const m = measured(run).map((e) => e.tokensPerSec);
  run.tokensPerSec = median(m);
  run.tokensPerSecRange = range(m);
  run.gflops = (run.tokensPerSec * flopsPerToken) / 1e9;
  run.finalPerplexity = run.epochs.at(-1)?.perplexity ?? Number.NaN;
  const growth = run.epochs
    .slice(1)
    .filter((e) => e.liveTensorsBefore !== undefined && e.liveTensorsAfter !== undefined)
    .map((e) => e.liveTensorsAfter! - e.liveTensorsBefore!);
  if (growth.length > 0) run.liveTensorGrowth = growth.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
  const gpu = measured(run).map((e) => e.gpu).filter((g): g is GpuEpochCounters => g !== undefined);
  if (gpu.length > 0) {
    const med = (f: (g: GpuEpochCounters) => number) => median(gpu.map(f));
    run.gpu = {
      dispatches: med((g) => g.dispatches),
      submits: med((g) => g.submits),
      readbacks: med((g) => g.readbacks),
      pipelines: Math.max(...gpu.map((g) => g.pipelines)),
      dispatchesPerStep: med((g) => g.dispatchesPerStep),
      submitsPerStep: med((g) => g.submitsPerStep),
      readbacksPerStep: Math.max(...gpu.map((g) => g.readbacksPerStep)),
    };
    const timed = gpu.filter((g) => g.kernelMsPerStep !== undefined && g.wallMsPerStep !== undefined);
    if (timed.length > 0) {
      run.gpu.kernelMsPerStep = median(timed.map((g) => g.kernelMsPerStep!));
      run.gpu.wallMsPerStep = median(timed.map((g) => g.wallMsPerStep!));
    }
  }
}

/** Every tinytape contender against every peer, and tinytape devices against each other. */
function ratios(runs: ContenderRun[]): RatioRow[] {
  const rows: RatioRow[] = [];
  const ok = runs.filter((r) => r.status === 'ok' && r.epochs.length > r.warmup);
  const ours = ok.filter((r) => !r.isPeer);
  for (const a of ours) {
    for (const b of ok) {
      // tinytape against itself once: the later device (webgpu) relative to the earlier (cpu).
      if (a === b || (!b.isPeer && ours.indexOf(b) > ours.indexOf(a))) continue;
      rows.push({ of: a.name, to: b.name, ratio: pairedRatio(measured(a).map((e) => e.tokensPerSec), measured(b).map((e) => e.tokensPerSec)) });
    }
  }
  return rows;
}

/** Every contender's last perplexity against tinytape on the CPU (or the first tinytape contender). */
function agreement(runs: ContenderRun[]): AgreementRow[] {
  const ok = runs.filter((r) => r.status === 'ok' && r.epochs.length > 0);
  const ref = ok.find((r) => r.name === 'tinytape/cpu') ?? ok.find((r) => !r.isPeer);
  if (ref === undefined) return [];
  return ok
    .filter((r) => r !== ref)
    .map((r) => {
      const n = Math.min(r.epochs.length, ref.epochs.length);
      const perplexity = r.epochs[n - 1]!.perplexity;
      const referencePerplexity = ref.epochs[n - 1]!.perplexity;
      return { name: r.name, reference: ref.name, epochs: n, perplexity, referencePerplexity, relDiff: Math.abs(perplexity - referencePerplexity) / referencePerplexity };
    });
}
