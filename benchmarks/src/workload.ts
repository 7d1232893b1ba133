/**
 * The work every contender does: the same minibatches of The Time Machine, epoch by epoch, and the
 * same initial parameters — so that a peer's perplexity can be checked against tinytape's, and a
 * throughput ratio compares the same computation.
 */
import { type Batch, type Vocab, loadDataTimeMachine } from '@tinytape/data';
import { getParams, parameters } from '@tinytape/rnn';
import { cpu, manualSeed } from '@tinytape/tensor';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel } from './models.ts';
import { type ModelKind, type TrainConfig, conciseCell, recurrentShape } from './plan.ts';

/** The repository root: the bundle lives in benchmarks/dist, the sources in benchmarks/src. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function defaultDataDir(): string {
  return process.env.TINYTAPE_DATA_DIR ?? path.join(REPO_ROOT, '../shared/data');
}

/** d2l's scratch parameters as host arrays: W_xh [V,H], W_hh [H,H], b_h [H], W_hq [H,V], b_q [V]. */
export interface ScratchInit {
  kind: 'scratch';
  vocab: number;
  hidden: number;
  W_xh: Float32Array;
  W_hh: Float32Array;
  b_h: Float32Array;
  W_hq: Float32Array;
  b_q: Float32Array;
}

/**
 * A concise model's parameters as host arrays, in PyTorch's layout (what tinytape's RNNModel holds):
 * weight_ih [G·H, V], weight_hh [G·H, H], bias_ih and bias_hh [G·H], linear.weight [V, H],
 * linear.bias [V], with G gate blocks in PyTorch's order (GRU r, z, n; LSTM i, f, g, o).
 */
export interface ConciseInit {
  kind: 'concise';
  cell: 'rnn' | 'gru' | 'lstm';
  vocab: number;
  hidden: number;
  weight_ih: Float32Array;
  weight_hh: Float32Array;
  bias_ih: Float32Array;
  bias_hh: Float32Array;
  linear_weight: Float32Array;
  linear_bias: Float32Array;
}

export type ModelInit = ScratchInit | ConciseInit;

export interface Workload {
  config: TrainConfig;
  vocab: Vocab;
  vocabSize: number;
  /** Batches of epoch `e` (0-based), the same list for every contender. */
  epochBatches(e: number): Batch[];
  /** Tokens one epoch trains on (targets counted, as d2l's timer does). */
  tokensPerEpoch: number;
  /**
   * The initial parameters tinytape draws with `manualSeed(seed)`; peers start from a copy. Null for
   * a model no peer implements (see `peersImplement`): there is nothing to copy them into.
   */
  init: ModelInit | null;
  seed: number;
}

/**
 * Loads the corpus for `config` with d2l's sequential iterator (the book's default, whose state
 * carries over between batches) and records every epoch's batches on first use, so that a run
 * interleaved with others sees exactly the batches they see.
 */
export async function makeWorkload(config: TrainConfig, seed: number, dataDir: string): Promise<Workload> {
  const { trainIter, vocab } = await loadDataTimeMachine(config.batchSize, config.numSteps, {
    maxTokens: config.maxTokens,
    seed,
    dataDir,
  });
  const epochs: Batch[][] = [];
  const epochBatches = (e: number): Batch[] => {
    while (epochs.length <= e) epochs.push([...trainIter]);
    return epochs[e]!;
  };
  const first = epochBatches(0);
  if (first.length === 0) throw new Error(`no batch fits in ${config.maxTokens} tokens at batch ${config.batchSize} × ${config.numSteps} steps`);
  return {
    config,
    vocab,
    vocabSize: vocab.length,
    epochBatches,
    // The sequential iterator's random offset can change the batch count by one between epochs, so
    // this is the first epoch's; each run counts its own epochs' tokens when timing.
    tokensPerEpoch: first.reduce((n, b) => n + b.Y.length, 0),
    init: await modelInit(config, vocab.length, seed),
    seed,
  };
}

/**
 * Whether the peers (peers/*.ts) implement `model`. They write the scratch RNN and one-layer,
 * one-direction concise cells, whose parameters ConciseInit carries (only `_l0` names); a deeper or
 * bidirectional layer has more, so copying its first layer would start a peer from a different model.
 */
export function peersImplement(model: ModelKind): boolean {
  const { layers, directions } = recurrentShape(model);
  return layers === 1 && directions === 1;
}

/** The parameters tinytape starts `config` from, read back to the host for the peers; null when no peer implements the model. */
export async function modelInit(config: TrainConfig, vocab: number, seed: number): Promise<ModelInit | null> {
  if (!peersImplement(config.model)) return null;
  const cell = conciseCell(config.model);
  return cell === null ? scratchInit(vocab, config.hidden, seed) : conciseInit(config, cell, vocab, seed);
}

/**
 * Draws the scratch model's parameters exactly as `RNNModelScratch` does after `manualSeed(seed)`
 * (tinytape draws on the host, so the numbers are the same for every device) and reads them back.
 */
export async function scratchInit(vocab: number, hidden: number, seed: number): Promise<ScratchInit> {
  manualSeed(seed);
  const params = getParams(vocab, hidden, cpu());
  const [W_xh, W_hh, b_h, W_hq, b_q] = await Promise.all(params.map(async (p) => new Float32Array(await p.toArray())));
  for (const p of params) p.dispose();
  return { kind: 'scratch', vocab, hidden, W_xh: W_xh!, W_hh: W_hh!, b_h: b_h!, W_hq: W_hq!, b_q: b_q! };
}

/**
 * Builds the concise model once more on the CPU with the same seed (tinytape draws on the host, so
 * these are the numbers every device starts from) and reads its parameters back by their PyTorch names.
 */
async function conciseInit(config: TrainConfig, cell: ConciseInit['cell'], vocab: number, seed: number): Promise<ConciseInit> {
  const net = buildModel(config, vocab, cpu(), seed);
  const named = new Map<string, Float32Array>();
  for (const [name, p] of net.namedParameters()) named.set(name, new Float32Array(await p.toArray()));
  for (const p of parameters(net)) p.dispose();
  const get = (name: string): Float32Array => {
    const a = named.get(name);
    if (a === undefined) throw new Error(`concise ${cell}: tinytape's model has no parameter "${name}" (has ${[...named.keys()].join(', ')})`);
    return a;
  };
  return {
    kind: 'concise',
    cell,
    vocab,
    hidden: config.hidden,
    weight_ih: get('rnn.weight_ih_l0'),
    weight_hh: get('rnn.weight_hh_l0'),
    bias_ih: get('rnn.bias_ih_l0'),
    bias_hh: get('rnn.bias_hh_l0'),
    linear_weight: get('linear.weight'),
    linear_bias: get('linear.bias'),
  };
}

/** Tokens in a list of batches (targets, as d2l counts them). */
export function tokensOf(batches: readonly Batch[]): number {
  return batches.reduce((n, b) => n + b.Y.length, 0);
}
