/**
 * `pnpm bench`: tinytape's training throughput against TensorFlow.js and jax-js, its scaling, its
 * kernels and its memory, printed as a table (or one JSON object with --json) and written as a
 * markdown report to benchmarks/results/. See args.ts for the flags and plan.ts for what each mode runs.
 */
import { type Device, cpu, releaseDevices } from '@tinytape/tensor';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchArgs, USAGE, parseArgs } from './args.ts';
import { errorLine } from './contender.ts';
import { runKernels } from './families/kernels.ts';
import { runScaling } from './families/scaling.ts';
import { type Devices, runThroughput } from './families/throughput.ts';
import { log, setQuiet } from './log.ts';
import { cpuMark, isSoftwareAdapter, machineInfo, otherCores } from './machine.ts';
import { jaxVersion } from './peers/jax.ts';
import { tfVersions } from './peers/tfjs.ts';
import { makePlan, plannedPeers } from './plan.ts';
import { toMarkdown, toText } from './report/document.ts';
import { AGREEMENT_TOLERANCE, liveTensorLine, reportBlocks } from './report/sections.ts';
import { type Report, rssSample } from './report/types.ts';
import { annotateTargets, dispatchMisses, ratioWarnings } from './targets.ts';
import { openDevice } from './tinytape.ts';
import { REPO_ROOT, defaultDataDir } from './workload.ts';

async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`bench: ${errorLine(error)}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Libraries that print at import time (TensorFlow.js's Node banner) must not reach stdout, which
  // carries only the result.
  console.log = (...parts: unknown[]) => console.error(...parts);
  console.info = console.log;

  const started = performance.now();
  const cpuStart = cpuMark();
  const plan = makePlan(args);
  const dataDir = args.dataDir ?? defaultDataDir();
  const machine = machineInfo();
  const notes: string[] = [];
  const rss = [rssSample('start')];
  log(`tinytape bench (${plan.mode}): ${args.families.join(', ')} on ${args.devices.join(', ')}; peers: ${args.peers.join(', ') || 'none'}`);

  // The WebGPU backend's own switch (TINYTAPE_GPU_TIMING), read when the device is created: webgpu() is
  // the engine's shared device and takes no options.
  if (args.gpuTiming) process.env.TINYTAPE_GPU_TIMING = '1';
  const devices: Devices = {};
  for (const name of args.devices) {
    const d = await openDevice(name, cpu());
    devices[name] = d;
    if (typeof d === 'string') notes.push(`tinytape/${name}: ${d}`);
    else if (d.kind === 'webgpu') {
      machine.adapter = d.description.replace(/^webgpu \((.*)\)$/, '$1');
      machine.softwareAdapter = isSoftwareAdapter(machine.adapter);
    }
  }
  if (typeof devices.webgpu === 'string') machine.adapter = devices.webgpu;

  // Only the peers some config runs are loaded: `--models deep-bilstm` alone runs none.
  const peersRun = new Set(args.families.includes('throughput') ? plan.throughput.configs.flatMap((c) => plannedPeers(c, args.peers)) : []);
  if (peersRun.size > 0) {
    if ([...peersRun].some((p) => p.startsWith('tfjs'))) {
      try {
        Object.assign(machine.versions, await tfVersions());
      } catch (error) {
        notes.push(`TensorFlow.js could not be loaded: ${errorLine(error)}`);
      }
    }
    if (peersRun.has('jax-wasm')) {
      try {
        machine.versions['@jax-js/jax'] = jaxVersion();
      } catch (error) {
        notes.push(`jax-js could not be loaded: ${errorLine(error)}`);
      }
    }
  }

  const report: Report = {
    schema: 'tinytape-bench/1',
    mode: plan.mode,
    args: { families: args.families, models: args.models, devices: args.devices, peers: args.peers, seed: args.seed },
    machine,
    plan,
    throughput: [],
    scaling: [],
    kernels: [],
    memory: { peakRssMiB: 0, samples: rss },
    notes,
    seconds: 0,
  };
  let failed = false;
  const family = async (name: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (error) {
      failed = true;
      notes.push(`${name} failed: ${errorLine(error)}`);
      log(`${name} failed: ${(error as Error).stack ?? error}`);
    }
    rss.push(rssSample(name));
  };
  if (args.families.includes('throughput')) {
    await family('throughput', async () => {
      report.throughput = await runThroughput(plan.throughput.configs, plan.throughput, devices, args.peers, plan.seed, dataDir);
      annotateTargets(report.throughput, plan.mode);
    });
  }
  if (args.families.includes('scaling')) {
    await family('scaling', async () => {
      const s = plan.scaling;
      report.scaling = await runScaling(s.base, s.hidden, s.batch, s, devices, plan.seed, dataDir);
    });
  }
  if (args.families.includes('kernels')) {
    await family('kernels', async () => {
      report.kernels = await runKernels(plan.kernels, devices);
    });
  }
  await releaseDevices();

  failed = collectProblems(report, args.strict) || failed;
  machine.loadAverageEnd = os.loadavg()[0]!;
  machine.otherProcessesCores = otherCores(cpuStart, cpuMark());
  if (machine.otherProcessesCores > 0.25) {
    notes.unshift(
      `other processes kept ${machine.otherProcessesCores.toFixed(2)} of ${machine.cores} cores busy on average during the run: ` +
        'absolute figures are depressed and scattered; the interleaved ratios are the figures to compare',
    );
  }
  report.memory.peakRssMiB = rss.at(-1)!.peakRssMiB;
  report.seconds = (performance.now() - started) / 1000;

  const blocks = reportBlocks(report);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(args.json ? json : toText(blocks));
  if (args.write) {
    // The markdown is meant to be committed; the JSON beside it is for tools (git ignores it).
    const dir = args.outDir ?? path.join(REPO_ROOT, 'benchmarks/results');
    const stem = `${machine.date.slice(0, 10)}${plan.mode === 'quick' ? '-quick' : ''}`;
    const latest = `latest${plan.mode === 'quick' ? '-quick' : ''}`;
    const md = toMarkdown(blocks);
    mkdirSync(dir, { recursive: true });
    for (const name of [stem, latest]) {
      writeFileSync(path.join(dir, `${name}.md`), md);
      writeFileSync(path.join(dir, `${name}.json`), json);
    }
    log(`wrote ${path.relative(process.cwd(), path.join(dir, stem))}.md (and .json, ${latest}.md, ${latest}.json)`);
  }
  return failed ? 1 : 0;
}

/**
 * Adds a note for every failure, leak, in-step readback, perplexity disagreement and missed target
 * (targets.ts), and says whether the run counts as failed: tinytape failing always does; with
 * --strict, so does anything that did not run (a device without an adapter, a peer that would not
 * load) and a WebGPU run above its dispatch target, a count that does not drift from run to run.
 * Timings are never judged: a WebGPU ÷ CPU ratio below its floor only prints a warning.
 */
function collectProblems(r: Report, strict: boolean): boolean {
  let failed = false;
  const runs = [...r.throughput.flatMap((t) => t.runs.map((run) => ({ where: t.label, run }))), ...r.scaling.flatMap((p) => p.runs.map((run) => ({ where: `scaling H=${p.config.hidden} B=${p.config.batchSize}`, run })))];
  for (const { where, run } of runs) {
    if (run.status === 'failed') {
      r.notes.push(`${where}: ${run.name} failed: ${run.note}`);
      if (!run.isPeer || strict) failed = true;
    }
    if (run.liveTensorGrowth !== undefined && run.liveTensorGrowth !== 0) r.notes.push(`${where}: ${run.name} live tensors change by ${run.liveTensorGrowth} per epoch (a leak)`);
    if (run.gpu !== undefined && run.gpu.readbacksPerStep !== 0) r.notes.push(`${where}: ${run.name} reads back ${run.gpu.readbacksPerStep} times per step (must be 0)`);
  }
  for (const t of r.throughput) {
    for (const s of t.skipped) {
      r.notes.push(`${t.label}: ${s.name} skipped: ${s.reason}`);
      if (strict) failed = true;
    }
    if (t.liveTensors.afterDispose !== t.liveTensors.before) r.notes.push(`${t.label}: ${liveTensorLine(t.liveTensors)}`);
    for (const a of t.agreement) {
      if (a.relDiff > AGREEMENT_TOLERANCE) r.notes.push(`${t.label}: ${a.name} perplexity ${a.perplexity.toFixed(3)} differs from ${a.reference}'s ${a.referencePerplexity.toFixed(3)} by ${(a.relDiff * 100).toFixed(2)}%`);
    }
  }
  for (const p of r.scaling) {
    if (p.liveTensors && p.liveTensors.afterDispose !== p.liveTensors.before) r.notes.push(`scaling H=${p.config.hidden} B=${p.config.batchSize}: ${liveTensorLine(p.liveTensors)}`);
  }
  for (const k of r.kernels) {
    if (k.note?.startsWith('failed')) {
      r.notes.push(`kernels ${k.device} ${k.name}: ${k.note}`);
      failed = true;
    }
  }
  if (strict && r.notes.some((n) => n.startsWith('tinytape/') || n.includes('could not be loaded'))) failed = true;
  for (const miss of dispatchMisses(r.throughput)) {
    r.notes.push(miss.message);
    if (strict) {
      failed = true;
      log(`bench --strict: FAILED: ${miss.message}`);
    }
  }
  for (const warning of ratioWarnings(r.throughput)) {
    r.notes.push(warning);
    log(`WARNING: ${warning}`);
  }
  return failed;
}

process.exitCode = await main(process.argv.slice(2));
