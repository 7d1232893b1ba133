/**
 * The typed configurations the CLI produces, their allowed values and defaults. Defaults follow d2l.ai
 * chapter 8 (512 hidden units, batch 32, 35 steps, the first 10,000 tokens, lr 1, clip 1, 500 epochs,
 * sequential partitioning), so `tinytape train` with no flags reproduces the book's run.
 */

/** Built-in corpora: H. G. Wells' *The Time Machine* (d2l) and Jay Chou lyrics (d2l-zh). */
export const DATASETS = ['timemachine', 'jaychou'] as const;
/** A built-in corpus name. */
export type DatasetName = (typeof DATASETS)[number];

/**
 * `scratch` is the hand-written RNN of d2l 8.5, `scratch-gru` and `scratch-lstm` the hand-written cells of
 * §9.1 and §9.2; `rnn`, `gru` and `lstm` are the concise layers of 8.6 and chapter 9.
 */
export const MODELS = ['scratch', 'scratch-gru', 'scratch-lstm', 'rnn', 'gru', 'lstm'] as const;
/** A model kind. */
export type ModelKind = (typeof MODELS)[number];

/** Optimizers the trainer offers. */
export const OPTIMIZERS = ['sgd', 'adam'] as const;
/** An optimizer name. */
export type OptimizerKind = (typeof OPTIMIZERS)[number];

/** `auto` picks WebGPU when an adapter is available and falls back to the CPU. */
export const DEVICES = ['auto', 'cpu', 'wasm', 'reference', 'webgpu'] as const;
/** A device choice. */
export type DeviceChoice = (typeof DEVICES)[number];

/** Where the training text comes from: a built-in corpus or a user's own UTF-8 text file. */
export type DataSource = { kind: 'dataset'; name: DatasetName } | { kind: 'file'; path: string };

/** Everything `tinytape train` needs, validated. */
export interface TrainConfig {
  /** Corpus to train on (`--dataset` or `--data`). */
  data: DataSource;
  /** Directory where built-in corpora are cached/found; `undefined` means the data package's default. */
  dataDir: string | undefined;
  /** Model kind (`--model`). */
  model: ModelKind;
  /** Hidden units per layer (`--hidden`). */
  hidden: number;
  /** Stacked recurrent layers (`--layers`). */
  layers: number;
  /** Run a second direction too (`--bidirectional`). */
  bidirectional: boolean;
  /** Optimizer (`--optimizer`). */
  optimizer: OptimizerKind;
  /** Passes over the data (`--epochs`). */
  epochs: number;
  /** Learning rate (`--lr`). */
  lr: number;
  /** Gradient-norm clipping threshold theta (`--clip`). */
  clip: number;
  /** Subsequences per minibatch (`--batch-size`). */
  batchSize: number;
  /** Time steps per subsequence (`--num-steps`). */
  numSteps: number;
  /** Tokens of the corpus to use; -1 means all (`--max-tokens`). */
  maxTokens: number;
  /** Random rather than sequential partitioning (`--random-iter`). */
  randomIter: boolean;
  /** Compute device (`--device`). */
  device: DeviceChoice;
  /** Seed for initialisation and sampling (`--seed`). */
  seed: number;
  /** Checkpoint to write (`--save`). */
  save: string | undefined;
  /** Checkpoint to continue from (`--resume`). */
  resume: string | undefined;
  /** SVG perplexity chart to (re)write each epoch (`--plot`). */
  plot: string | undefined;
  /** CSV log of the epochs (`--csv`). */
  csv: string | undefined;
  /** Print machine-readable JSON lines instead of text (`--json`). */
  json: boolean;
  /** Prefixes to continue when showing progress (`--prefixes`). */
  prefixes: string[];
  /** Show predictions every this many epochs (`--pred-period`). */
  predPeriod: number;
  /** Characters to predict per prefix (`--pred-len`). */
  predLen: number;
  /** Keep going when the loss becomes NaN instead of stopping (`--allow-nan`). */
  allowNan: boolean;
  /** Print only the final result (`--quiet`). */
  quiet: boolean;
  /** Print time and calls per kernel (`--profile`). */
  profile: boolean;
}

/** Everything `tinytape generate` needs, validated. */
export interface GenerateConfig {
  /** Checkpoint to load (`--checkpoint`). */
  checkpoint: string;
  /** Text to continue (`--prefix`). */
  prefix: string;
  /** Characters to generate (`--num`). */
  num: number;
  /** Sampling temperature; `undefined` means greedy argmax, as in d2l's `predict_ch8`. */
  temperature: number | undefined;
  /** Seed for sampling (`--seed`). */
  seed: number;
  /** Compute device (`--device`). */
  device: DeviceChoice;
}

/** Defaults of `train`, also printed by `usage('train')`. */
export const TRAIN_DEFAULTS = {
  dataset: 'timemachine',
  model: 'scratch',
  hidden: 512,
  layers: 1,
  optimizer: 'sgd',
  epochs: 500,
  lr: 1,
  clip: 1,
  batchSize: 32,
  numSteps: 35,
  maxTokens: 10_000,
  device: 'auto',
  seed: 0,
  prefixes: ['time traveller', 'traveller'],
  predPeriod: 10,
  predLen: 50,
} as const satisfies Partial<Record<keyof TrainConfig | 'dataset', unknown>>;

/** Learning rate when `--optimizer adam` is given without `--lr` (PyTorch's default for Adam). */
export const ADAM_DEFAULT_LR = 0.001;

/** Defaults of `generate`, also printed by `usage('generate')`. */
export const GENERATE_DEFAULTS = {
  num: 50,
  seed: 0,
  device: 'auto',
} as const satisfies Partial<Record<keyof GenerateConfig, unknown>>;

/** Largest int32: sizes and counts index typed arrays, so anything beyond is certainly a typo. */
export const INT32_MAX = 2 ** 31 - 1;
/** Seeds are used as 32-bit unsigned integers. */
export const UINT32_MAX = 2 ** 32 - 1;
/** Upper bounds beyond which a value is a typo rather than an experiment. */
export const LIMITS = {
  hidden: 65_536,
  layers: 64,
  generate: 1_000_000,
} as const;
