/*
 * The messages between the page and its training worker. Training runs in a dedicated worker so the
 * page stays responsive, and because the wasm backend may use its second thread only from a worker.
 */
import type { DeviceChoice, RunConfig } from './config.ts';

/** Where the training text comes from: the page's own origin, or a file the user dropped or picked. */
export type TextSource = { kind: 'url'; url: string } | { kind: 'bytes'; bytes: Uint8Array; name: string };

/** What the page asks of the worker. */
export type ToWorker =
  | { type: 'train'; config: RunConfig; text: TextSource }
  /** Ends the run at the next epoch boundary; `continue` goes on from there. */
  | { type: 'stop' }
  | { type: 'continue'; epochs: number }
  | { type: 'save' }
  | { type: 'load'; bytes: Uint8Array; name: string; device: DeviceChoice }
  | { type: 'generate'; prefix: string; length: number; temperature: number | null; seed: number };

/** Which device a run got, and why. */
export interface DeviceReport {
  kind: 'webgpu' | 'cpu';
  /** The adapter's description on WebGPU (vendor, architecture, fallback or not); null on the CPU. */
  adapter: string | null;
  /** Why this device: what was asked for and what the browser offered. */
  reason: string;
  /** Threads of the wasm backend (1 or 2); how many the CPU would use when WebGPU runs. */
  threads: number;
}

/** The JSON written into #result when a run ends (the URL contract's summary). */
export interface RunSummary {
  device: 'webgpu' | 'cpu';
  adapter: string | null;
  /** One per epoch. */
  perplexities: number[];
  tokensPerSec: number[];
  /** The continuation of "time traveller" at the end of the run. */
  sample: string;
  model: string;
  epochs: number;
}

/** What the worker tells the page. */
export type FromWorker =
  | { type: 'device'; report: DeviceReport }
  | { type: 'text'; label: string; tokens: number; vocabSize: number }
  | { type: 'tape'; text: string; ops: number }
  | { type: 'epoch'; epoch: number; of: number; perplexity: number; tokensPerSec: number }
  | { type: 'sample'; epoch: number; text: string }
  | { type: 'profile'; epoch: number; text: string }
  | { type: 'stopped'; epoch: number }
  | { type: 'done'; summary: RunSummary }
  | { type: 'checkpoint'; bytes: Uint8Array; fileName: string }
  | { type: 'loaded'; description: string }
  | { type: 'generated'; text: string; note: string | null }
  | { type: 'error'; during: 'train' | 'save' | 'load' | 'generate'; message: string };
