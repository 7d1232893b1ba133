/** The one object `--json` prints: every figure, ratio and note of a run. */
import type { BenchArgs } from '../args.ts';
import type { KernelRow } from '../families/kernels.ts';
import type { ScalingPoint } from '../families/scaling.ts';
import type { ThroughputResult } from '../families/throughput.ts';
import type { MachineInfo } from '../machine.ts';
import type { Plan } from '../plan.ts';

export interface RssSample {
  /** After which family. */
  after: string;
  /** Peak resident set size of the process so far (process.resourceUsage().maxRSS). */
  peakRssMiB: number;
  /** Resident set size at that moment. */
  rssMiB: number;
}

export interface Report {
  schema: 'tinytape-bench/1';
  mode: Plan['mode'];
  args: Pick<BenchArgs, 'families' | 'models' | 'devices' | 'peers' | 'seed'>;
  machine: MachineInfo;
  plan: Plan;
  throughput: ThroughputResult[];
  scaling: ScalingPoint[];
  kernels: KernelRow[];
  memory: { peakRssMiB: number; samples: RssSample[] };
  /** Things the reader must know: unavailable devices or peers, failures, load. */
  notes: string[];
  seconds: number;
}

export function rssSample(after: string): RssSample {
  return {
    after,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}
