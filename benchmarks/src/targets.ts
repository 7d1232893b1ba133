/**
 * What the project's issue asks of tinytape on WebGPU, and the checks against it: a ceiling on
 * dispatches per training step (deterministic, so `--strict` fails on it) and a floor on the
 * WebGPU ÷ CPU tokens/s ratio of the quick bench (timings drift, so it only warns).
 *
 * The checks take the few fields they read rather than whole results, so that tests can hand them
 * small fakes.
 */
import type { ModelName } from './args.ts';

/**
 * Most dispatches per training step a WebGPU run may need, per model, from the project's issue: one
 * dispatch per recurrent sequence (each layer and direction's whole recurrence one kernel forward, one
 * backward), so what is left is the output layer, the loss, clipping and SGD over the few parameter
 * tensors. The deep bidirectional LSTM has four sequences where the one-layer models have one.
 * scratch-rnn is absent on purpose: d2l §8.5's model steps through time op by op, and its count is
 * reported without a target.
 */
export const DISPATCH_TARGETS: Readonly<Partial<Record<ModelName, number>>> = {
  'concise-rnn': 20,
  'concise-gru': 25,
  'concise-lstm': 25,
  'deep-bilstm': 60,
};

/**
 * Least WebGPU ÷ CPU tokens/s a concise model may reach in the quick bench (hidden 32, on this kind
 * of machine), from the same issue. Timings on a shared VM drift by ±40 %, so falling below prints a
 * warning and a note but never fails the run, not even with `--strict`.
 */
export const QUICK_WEBGPU_CPU_FLOORS: Readonly<Partial<Record<ModelName, number>>> = {
  'concise-rnn': 0.086,
  'concise-gru': 0.103,
  'concise-lstm': 0.137,
};

/** The WebGPU contender's name, as tinytape.ts builds it from the device kind. */
export const WEBGPU = 'tinytape/webgpu';
const CPU = 'tinytape/cpu';

/** The dispatch target of `model`, or null when it has none (scratch-rnn). */
export function dispatchTarget(model: ModelName): number | null {
  return DISPATCH_TARGETS[model] ?? null;
}

/** The WebGPU ÷ CPU floor of `model` in `mode`, or null: the floors were set for the quick bench's sizes only. */
export function webgpuCpuFloor(model: ModelName, mode: 'quick' | 'full'): number | null {
  return mode === 'quick' ? (QUICK_WEBGPU_CPU_FLOORS[model] ?? null) : null;
}

/** The fields of a throughput result the checks read (ThroughputResult has them all). */
export interface CheckedResult {
  label: string;
  config: { model: ModelName };
  runs: readonly { name: string; status: 'ok' | 'failed'; gpu?: { dispatchesPerStep: number; dispatchTarget?: number | null } }[];
  ratios: readonly { of: string; to: string; ratio: number }[];
  /** WebGPU ÷ CPU tokens/s and its floor, once `annotateTargets` has run. */
  webgpuCpu?: WebgpuCpuRatio;
}

/** tinytape's WebGPU tokens/s over its CPU tokens/s in the same rounds, and the floor it is held to. */
export interface WebgpuCpuRatio {
  ratio: number;
  /** null when the model has no floor in this mode. */
  floor: number | null;
}

/** A WebGPU run that needed more dispatches per step than its target. */
export interface DispatchMiss {
  model: ModelName;
  contender: string;
  measured: number;
  target: number;
  /** One line naming the model, the measured count and the target. */
  message: string;
}

/**
 * Writes the targets into the results, so that the JSON and the report carry them next to what was
 * measured: `gpu.dispatchTarget` on every run with WebGPU counters (null without a target) and
 * `webgpuCpu` on every result where both tinytape devices ran.
 */
export function annotateTargets(results: CheckedResult[], mode: 'quick' | 'full'): void {
  for (const t of results) {
    for (const run of t.runs) if (run.gpu !== undefined) run.gpu.dispatchTarget = dispatchTarget(t.config.model);
    const ratio = t.ratios.find((r) => r.of === WEBGPU && r.to === CPU)?.ratio;
    if (ratio !== undefined && Number.isFinite(ratio)) t.webgpuCpu = { ratio, floor: webgpuCpuFloor(t.config.model, mode) };
  }
}

/**
 * Every WebGPU run above its model's dispatch target. Runs that failed have no counters and are
 * reported as failures elsewhere; models without a target (scratch-rnn) are never a miss.
 */
export function dispatchMisses(results: readonly CheckedResult[]): DispatchMiss[] {
  const misses: DispatchMiss[] = [];
  for (const t of results) {
    const target = dispatchTarget(t.config.model);
    if (target === null) continue;
    for (const run of t.runs) {
      if (run.status !== 'ok' || run.gpu === undefined || run.gpu.dispatchesPerStep <= target) continue;
      const measured = run.gpu.dispatchesPerStep;
      misses.push({
        model: t.config.model,
        contender: run.name,
        measured,
        target,
        message: `${t.label}: ${run.name} needs ${round(measured)} dispatches per training step, above the target of ${target} for ${t.config.model}`,
      });
    }
  }
  return misses;
}

/** One warning line per result whose WebGPU ÷ CPU ratio is below its floor (read after `annotateTargets`). */
export function ratioWarnings(results: readonly CheckedResult[]): string[] {
  return results
    .filter((t) => t.webgpuCpu !== undefined && t.webgpuCpu.floor !== null && t.webgpuCpu.ratio < t.webgpuCpu.floor)
    .map((t) => `${t.label}: webgpu ÷ cpu tokens/s ${round(t.webgpuCpu!.ratio, 3)} is below the floor of ${t.webgpuCpu!.floor} (timings drift; not a failure)`);
}

function round(x: number, digits = 1): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}
