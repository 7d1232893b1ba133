/**
 * Training throughput of the book's configs: tinytape on each device and every peer, interleaved on
 * the same batches from the same initial parameters, with ratios and a perplexity check.
 */
import { type Device, engine } from '@tinytape/tensor';
import type { DeviceName, PeerName } from '../args.ts';
import { type Contender, errorLine } from '../contender.ts';
import { type InterleavedRun, type SkippedContender, runInterleaved } from '../interleave.ts';
import { log } from '../log.ts';
import { jaxContender } from '../peers/jax.ts';
import { tfjsContender } from '../peers/tfjs.ts';
import { type EpochPlan, type TrainConfig, describeConfig, flopsPerToken, plannedPeers } from '../plan.ts';
import type { WebgpuCpuRatio } from '../targets.ts';
import { tinytapeContender } from '../tinytape.ts';
import { type Workload, makeWorkload } from '../workload.ts';

export interface ThroughputResult extends InterleavedRun {
  config: TrainConfig;
  label: string;
  tokensPerEpoch: number;
  flopsPerToken: number;
  epochPlan: EpochPlan;
  /** Requested peers the plan does not run on this config (see plan.ts). */
  peersLeftOut: PeerName[];
  /** tinytape's WebGPU ÷ CPU tokens/s and the floor it is held to (targets.ts); absent unless both devices ran. */
  webgpuCpu?: WebgpuCpuRatio;
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
    const flops = flopsPerToken(config.model, config.hidden, work.vocabSize);
    const base = { config, label: describeConfig(config), tokensPerEpoch: work.tokensPerEpoch, flopsPerToken: flops, epochPlan };
    const liveTensorsBefore = engine.liveTensors;
    const planned = plannedPeers(config, peers);
    const peersLeftOut = peers.filter((p) => !planned.includes(p));
    if (peersLeftOut.length > 0) log(`${label} not run on this config by the plan: ${peersLeftOut.join(', ')}`);
    const { contenders, skipped } = await makeContenders(config, work, devices, planned, seed);
    for (const s of skipped) log(`${label} ${s.name} skipped: ${s.reason}`);
    const run = await runInterleaved(label, contenders, work, epochPlan, flops, liveTensorsBefore);
    results.push({ ...base, ...run, skipped, peersLeftOut });
  }
  return results;
}

/**
 * tinytape on each available device, then the peers, which start from a copy of tinytape's initial
 * parameters (`work.init`). A contender that cannot be created is listed as skipped with its reason.
 */
async function makeContenders(
  config: TrainConfig,
  work: Workload,
  devices: Devices,
  peers: PeerName[],
  seed: number,
): Promise<{ contenders: Contender[]; skipped: SkippedContender[] }> {
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
      skipped.push({ name: `tinytape/${name}`, reason: errorLine(error) });
    }
  }
  for (const peer of peers) {
    // Only reachable when a plan lists peers for a model they do not implement (see plan.ts).
    if (work.init === null) {
      skipped.push({ name: peer, reason: `no ${peer} implementation of ${config.model}` });
      continue;
    }
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
