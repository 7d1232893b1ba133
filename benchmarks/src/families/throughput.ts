/**
 * Training throughput of the book's configs: tinytape on each device and every peer, interleaved on
 * the same batches from the same initial parameters, with ratios and a perplexity check.
 */
import { type Device, engine } from '@tinytape/tensor';
import type { DeviceName, PeerName } from '../args.ts';
import { type Contender, errorLine } from '../contender.ts';
import { type InterleavedRun, type SkippedContender, runInterleaved } from '../interleave.ts';
import { log } from '../log.ts';
import { ModelUnavailable } from '../models.ts';
import { jaxContender } from '../peers/jax.ts';
import { tfjsContender } from '../peers/tfjs.ts';
import { type EpochPlan, type TrainConfig, describeConfig, flopsPerToken } from '../plan.ts';
import { tinytapeContender } from '../tinytape.ts';
import { type Workload, makeWorkload } from '../workload.ts';

export interface ThroughputResult extends InterleavedRun {
  config: TrainConfig;
  label: string;
  tokensPerEpoch: number;
  flopsPerToken: number;
  epochPlan: EpochPlan;
  /** Set when the whole config was skipped (e.g. the concise model is not there yet). */
  skippedReason?: string;
}

/** Devices by name: a Device, or why it is unavailable. */
export type Devices = Partial<Record<DeviceName, Device | string>>;

export async function runThroughput(
  configs: TrainConfig[],
  epochPlan: EpochPlan,
  devices: Devices,
  peers: PeerName[],
  seed: number,
  dataDir: string,
): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  for (const config of configs) {
    const label = `[throughput ${describeConfig(config)}]`;
    const work = await makeWorkload(config, seed, dataDir);
    const flops = flopsPerToken(config.hidden, work.vocabSize);
    const base = { config, label: describeConfig(config), tokensPerEpoch: work.tokensPerEpoch, flopsPerToken: flops, epochPlan };
    const liveTensorsBefore = engine.liveTensors;
    const { contenders, skipped, unavailable } = await makeContenders(config, work, devices, config.model === 'scratch-rnn' ? peers : [], seed);
    if (unavailable !== undefined) {
      log(`${label} skipped: ${unavailable}`);
      const n = engine.liveTensors;
      const liveTensors = { before: liveTensorsBefore, start: n, end: n, afterDispose: n };
      results.push({ ...base, runs: [], skipped, ratios: [], agreement: [], liveTensors, skippedReason: unavailable });
      continue;
    }
    for (const s of skipped) log(`${label} ${s.name} skipped: ${s.reason}`);
    const run = await runInterleaved(label, contenders, work, epochPlan, flops, liveTensorsBefore);
    results.push({ ...base, ...run, skipped });
  }
  return results;
}

/**
 * tinytape on each available device, then the peers. A contender that cannot be created is listed
 * as skipped with its reason; a model tinytape cannot build skips the whole config.
 */
async function makeContenders(
  config: TrainConfig,
  work: Workload,
  devices: Devices,
  peers: PeerName[],
  seed: number,
): Promise<{ contenders: Contender[]; skipped: SkippedContender[]; unavailable?: string }> {
  const contenders: Contender[] = [];
  const skipped: SkippedContender[] = [];
  for (const [name, device] of Object.entries(devices)) {
    if (typeof device === 'string') {
      skipped.push({ name: `tinytape/${name}`, reason: device });
      continue;
    }
    try {
      contenders.push(tinytapeContender(config, work.vocabSize, device!, seed));
    } catch (error) {
      if (error instanceof ModelUnavailable) {
        for (const c of contenders) await c.dispose();
        return { contenders: [], skipped, unavailable: error.message };
      }
      skipped.push({ name: `tinytape/${name}`, reason: errorLine(error) });
    }
  }
  for (const peer of peers) {
    try {
      if (peer === 'tfjs-cpu') contenders.push(await tfjsContender('cpu', config, work.init));
      else if (peer === 'tfjs-wasm') contenders.push(await tfjsContender('wasm', config, work.init));
      else contenders.push(await jaxContender(config, work.init));
    } catch (error) {
      skipped.push({ name: peer, reason: errorLine(error) });
    }
  }
  return { contenders, skipped };
}
