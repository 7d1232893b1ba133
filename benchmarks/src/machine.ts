/** What the figures were taken on: machine, load, adapter, and every library's version. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './workload.ts';

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  /** 1-minute load average when the run started and ended (this process's own threads count at the end). */
  loadAverageStart: number;
  loadAverageEnd?: number;
  /**
   * Cores kept busy by other processes, averaged over the run: all cores' busy time less this
   * process's CPU time, per second of wall time. Near 0 on a quiet machine.
   */
  otherProcessesCores?: number;
  /** The WebGPU adapter, or why there is none. */
  adapter: string;
  /** Whether the adapter is a CPU emulation of a GPU (lavapipe/llvmpipe, SwiftShader). */
  softwareAdapter: boolean;
  tinytape: string;
  /** Git commit of the working tree, with "+dirty" when it has uncommitted changes. */
  commit: string;
  versions: Record<string, string>;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageStart: os.loadavg()[0]!,
    adapter: 'not opened',
    softwareAdapter: false,
    tinytape: readVersion(path.join(REPO_ROOT, 'packages/tensor/package.json')),
    commit: gitCommit(),
    versions: {},
  };
}

/** A reading of all cores' busy time and this process's CPU time, to tell other processes' load apart from ours. */
export interface CpuMark {
  wallMs: number;
  busyMs: number;
  ownMs: number;
}

export function cpuMark(): CpuMark {
  const busyMs = os.cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  const own = process.cpuUsage();
  return { wallMs: performance.now(), busyMs, ownMs: (own.user + own.system) / 1000 };
}

/** Average cores used by other processes between two marks. */
export function otherCores(from: CpuMark, to: CpuMark): number {
  const wall = to.wallMs - from.wallMs;
  return wall <= 0 ? 0 : Math.max(0, (to.busyMs - from.busyMs - (to.ownMs - from.ownMs)) / wall);
}

export function isSoftwareAdapter(description: string): boolean {
  return /llvmpipe|lavapipe|swiftshader|software|warp/i.test(description);
}

function readVersion(file: string): string {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return run(['rev-parse', '--short', 'HEAD']) + (run(['status', '--porcelain']) === '' ? '' : '+dirty');
  } catch {
    return 'unknown';
  }
}
