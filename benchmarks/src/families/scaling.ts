/**
 * How tinytape's training throughput scales: hidden size at the base batch, batch size at the base
 * hidden size. With FLOPs per token known, tokens/s turns into achieved GFLOP/s, which shows where the
 * fixed per-op cost (small sizes) gives way to arithmetic (large sizes). Devices are interleaved
 * within each point; the peers are not run here (the throughput family compares them).
 */
import type { Contender } from '../contender.ts';
import { errorLine } from '../contender.ts';
import { engine } from '@tinytape/tensor';
import { type ContenderRun, type LiveTensorCounts, type SkippedContender, runInterleaved } from '../interleave.ts';
import { log } from '../log.ts';
import { type EpochPlan, type TrainConfig, describeConfig, flopsPerToken } from '../plan.ts';
import { tinytapeContender } from '../tinytape.ts';
import { makeWorkload } from '../workload.ts';
import type { Devices } from './throughput.ts';

export interface ScalingPoint {
  /** Which sweep the point belongs to (the base point belongs to both). */
  sweeps: ('hidden' | 'batch')[];
  config: TrainConfig;
  flopsPerToken: number;
  runs: ContenderRun[];
  skipped: SkippedContender[];
  liveTensors?: LiveTensorCounts;
}

export async function runScaling(
  base: TrainConfig,
  hidden: number[],
  batch: number[],
  epochPlan: EpochPlan,
  devices: Devices,
  seed: number,
  dataDir: string,
): Promise<ScalingPoint[]> {
  // One point per distinct (hidden, batch); the base point is shared by both sweeps.
  const points = new Map<string, ScalingPoint>();
  const add = (sweep: 'hidden' | 'batch', config: TrainConfig) => {
    const key = `${config.hidden}x${config.batchSize}`;
    const existing = points.get(key);
    if (existing) existing.sweeps.push(sweep);
    else points.set(key, { sweeps: [sweep], config, flopsPerToken: Number.NaN, runs: [], skipped: [] });
  };
  for (const h of hidden) add('hidden', { ...base, hidden: h });
  for (const b of batch) add('batch', { ...base, batchSize: b });

  for (const point of points.values()) {
    const label = `[scaling ${describeConfig(point.config)}]`;
    const work = await makeWorkload(point.config, seed, dataDir);
    point.flopsPerToken = flopsPerToken(point.config.model, point.config.hidden, work.vocabSize);
    const liveTensorsBefore = engine.liveTensors;
    const contenders: Contender[] = [];
    for (const [name, device] of Object.entries(devices)) {
      if (typeof device === 'string') point.skipped.push({ name: `tinytape/${name}`, reason: device });
      else {
        try {
          contenders.push(tinytapeContender(point.config, work.vocabSize, device!, seed));
        } catch (error) {
          point.skipped.push({ name: `tinytape/${name}`, reason: errorLine(error) });
        }
      }
    }
    for (const s of point.skipped) log(`${label} ${s.name} skipped: ${s.reason}`);
    const { runs, liveTensors } = await runInterleaved(label, contenders, work, epochPlan, point.flopsPerToken, liveTensorsBefore);
    point.runs = runs;
    point.liveTensors = liveTensors;
  }
  return [...points.values()];
}
