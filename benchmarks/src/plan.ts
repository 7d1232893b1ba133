/**
 * What each mode measures. The full plan is the book's setting (d2l §8.5: 512 hidden, batch 32,
 * 35 steps, the first 10,000 characters, lr 1, clipping 1); the quick plan keeps every code path but
 * shrinks sizes so that CI can run it once in well under two minutes on two cores.
 */
import type { RecurrencePath } from '@tinytape/rnn';
import type { BenchArgs, ModelName, PeerName } from './args.ts';

/**
 * Which model a training run builds (see models.ts): d2l §8.5's scratch RNN, §8.6's RNNModel around
 * nn.RNN, nn.GRU or nn.LSTM, or 'deep-bilstm', the RNNModel around a 2-layer bidirectional LSTM
 * (the layers of d2l §9.3 and §9.4).
 */
export type ModelKind = ModelName;

/** The recurrent cell of a concise model kind, or null for the scratch RNN. */
export function conciseCell(model: ModelKind): 'rnn' | 'gru' | 'lstm' | null {
  switch (model) {
    case 'scratch-rnn':
      return null;
    case 'concise-rnn':
      return 'rnn';
    case 'concise-gru':
      return 'gru';
    case 'concise-lstm':
    case 'deep-bilstm':
      return 'lstm';
  }
}

/** Stacked layers and directions of a model's recurrent layer (the scratch RNN: one of each). */
export function recurrentShape(model: ModelKind): { layers: number; directions: number } {
  return model === 'deep-bilstm' ? { layers: 2, directions: 2 } : { layers: 1, directions: 1 };
}

/**
 * The requested peers that run on `config`: all of them unless the config lists its own. A config
 * with `peers: []` is tinytape's alone (the peers implement only one-layer, one-direction models).
 */
export function plannedPeers(config: TrainConfig, requested: readonly PeerName[]): PeerName[] {
  return requested.filter((p) => config.peers === undefined || config.peers.includes(p));
}

/** One training configuration. */
export interface TrainConfig {
  model: ModelKind;
  hidden: number;
  batchSize: number;
  numSteps: number;
  /** Tokens of the corpus kept (d2l: 10,000). */
  maxTokens: number;
  lr: number;
  clip: number;
  /** The peers run on this config (throughput only); all requested ones when absent, none when empty. */
  peers?: readonly PeerName[];
  /** How tinytape's concise layers run their recurrence (`--recurrence`); each device's default when absent. */
  recurrence?: RecurrencePath;
}

/** How many epochs each training run does. */
export interface EpochPlan {
  /** Epochs run first and not measured (JIT compilation, pipeline creation, buffer pools). */
  warmup: number;
  /** Measured epochs; figures are their median. */
  epochs: number;
}

export interface MatmulShape {
  label: string;
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  /** Skipped on the CPU device (too slow for the mode). */
  skipCpu?: boolean;
}

export interface Plan {
  mode: 'quick' | 'full';
  seed: number;
  /** The book's configs, run on every device against every peer. */
  throughput: { configs: TrainConfig[] } & EpochPlan;
  /** tinytape alone: hidden sizes at the base batch, batch sizes at the base hidden. */
  scaling: { base: TrainConfig; hidden: number[]; batch: number[] } & EpochPlan;
  kernels: {
    matmul: MatmulShape[];
    /** Elements of the elementwise and reduction operands. */
    elementwiseSize: number;
    /** Tiny kernels queued before the one readback, for per-dispatch overhead. */
    dispatchReps: number;
    /** Each kernel figure is the median of at least `minReps` timed batches run for at least `minMs`. */
    minMs: number;
    minReps: number;
  };
}

/** d2l's defaults for the scratch model. */
export const BOOK: TrainConfig = { model: 'scratch-rnn', hidden: 512, batchSize: 32, numSteps: 35, maxTokens: 10_000, lr: 1, clip: 1 };

/** The RNN's matmul shapes at the book's size (forward H·W_hh, W_hh's gradient Hᵀ·dH, the output layer over a batch). */
const RNN_MATMULS: MatmulShape[] = [
  { label: 'H·W_hh [32,512]x[512,512]', m: 32, k: 512, n: 512 },
  { label: 'Hᵀ·dH [512,32]x[32,512] (transA)', m: 512, k: 32, n: 512, transA: true },
  { label: 'H·W_hq [1120,512]x[512,28]', m: 1120, k: 512, n: 28 },
];

export function makePlan(args: BenchArgs): Plan {
  const plan = modePlan(args);
  plan.throughput.configs = plan.throughput.configs.filter((c) => args.models.includes(c.model));
  if (args.recurrence !== undefined) {
    const recurrence = args.recurrence;
    plan.throughput.configs = plan.throughput.configs.map((c) => ({ ...c, recurrence }));
    plan.scaling.base = { ...plan.scaling.base, recurrence };
  }
  return plan;
}

/** Everything the mode runs, before `--models` narrows the throughput configs. */
function modePlan(args: BenchArgs): Plan {
  const quick = args.quick;
  const epochs = (dflt: number) => args.epochs ?? dflt;
  const warmup = (dflt: number) => args.warmup ?? dflt;
  if (quick) {
    // 3,000 tokens at batch 32 × 35 steps is two batches per epoch: enough for a carried-over state.
    const tiny: TrainConfig = { ...BOOK, hidden: 64, maxTokens: 3_000 };
    const concise = (model: ModelKind): TrainConfig => ({ ...tiny, model, hidden: 32 });
    return {
      mode: 'quick',
      seed: args.seed,
      throughput: {
        configs: [tiny, concise('concise-rnn'), concise('concise-gru'), concise('concise-lstm'), { ...concise('deep-bilstm'), peers: [] }],
        warmup: warmup(1),
        epochs: epochs(2),
      },
      scaling: { base: { ...tiny, hidden: 32 }, hidden: [32, 64], batch: [8, 32], warmup: warmup(0), epochs: epochs(1) },
      kernels: {
        matmul: [...RNN_MATMULS, { label: '1024³', m: 1024, k: 1024, n: 1024, skipCpu: true }],
        elementwiseSize: 1 << 16,
        dispatchReps: 200,
        minMs: 100,
        minReps: 1,
      },
    };
  }
  return {
    mode: 'full',
    seed: args.seed,
    // d2l §8.6 trains the concise models with 256 hidden units (chapter 9 keeps that size for the GRU
    // and LSTM). Three measured epochs, not more: TensorFlow.js's cpu backend needs over a minute per
    // epoch at 512 hidden units on this kind of machine, and every contender runs every round. For the
    // same reason it sits out the GRU and LSTM here (one to two minutes per epoch each, which would
    // add a quarter of an hour); the quick plan still runs it on every one-layer model. No peer runs
    // the 2-layer bidirectional LSTM: their models here are one layer, one direction.
    throughput: {
      configs: [
        BOOK,
        { ...BOOK, model: 'concise-rnn', hidden: 256 },
        { ...BOOK, model: 'concise-gru', hidden: 256, peers: ['tfjs-wasm', 'jax-wasm'] },
        { ...BOOK, model: 'concise-lstm', hidden: 256, peers: ['tfjs-wasm', 'jax-wasm'] },
        { ...BOOK, model: 'deep-bilstm', hidden: 256, peers: [] },
      ],
      warmup: warmup(1),
      epochs: epochs(3),
    },
    scaling: { base: BOOK, hidden: [128, 256, 512, 1024], batch: [8, 32, 128], warmup: warmup(1), epochs: epochs(2) },
    kernels: {
      matmul: [...RNN_MATMULS, { label: '1024³', m: 1024, k: 1024, n: 1024 }],
      elementwiseSize: 1 << 22,
      dispatchReps: 2000,
      minMs: 500,
      minReps: 3,
    },
  };
}

/** Gate blocks stacked in a concise cell's weights (PyTorch's layout); the scratch RNN has one. */
export function gateBlocks(model: ModelKind): number {
  const cell = conciseCell(model);
  return cell === 'gru' ? 3 : cell === 'lstm' ? 4 : 1;
}

/**
 * Floating-point operations per token: the forward pass multiplies by the input weights (G·V·H,
 * counted though the input is one-hot, as both the book's code and PyTorch's layers do a dense
 * matmul), the recurrent weights (G·H·H) and the output layer (H·V), two FLOPs per multiply-add,
 * with G gate blocks (1 for an RNN, 3 for a GRU, 4 for an LSTM); the backward pass costs about
 * twice the forward. Elementwise work (gates, bias, softmax) is left out: it is O(G·H + V), not O(H²).
 *
 * A stack of L layers in D directions runs every layer in each direction: the first reads the V
 * inputs, each later one the D·H outputs of the layer below, and the output layer reads D·H
 * features: 3 × 2·(D·G·(H·V + H·H) + (L−1)·D·G·(D·H·H + H·H) + D·H·V). For the 2-layer
 * bidirectional LSTM (D = 2, L = 2, G = 4) that is 3 × 2·(8·(H·V + H·H) + 8·(2H·H + H·H) + 2H·V).
 */
export function flopsPerToken(model: ModelKind, hidden: number, vocab: number): number {
  const g = gateBlocks(model);
  const { layers, directions: d } = recurrentShape(model);
  const first = d * g * (hidden * vocab + hidden * hidden);
  const later = (layers - 1) * d * g * (d * hidden * hidden + hidden * hidden);
  return 3 * 2 * (first + later + d * hidden * vocab);
}

export function describeConfig(c: TrainConfig): string {
  return `${c.model} H=${c.hidden} B=${c.batchSize} T=${c.numSteps} tokens=${c.maxTokens}${c.recurrence ? ` recurrence=${c.recurrence}` : ''}`;
}
