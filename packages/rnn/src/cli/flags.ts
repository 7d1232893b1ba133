/**
 * The flag tables of each command: one place that drives both `parseArgs` and the help text, so a flag
 * cannot be accepted without being documented (or documented without being accepted).
 */
import { ADAM_DEFAULT_LR, DATASETS, DEVICES, GENERATE_DEFAULTS, MODELS, OPTIMIZERS, TRAIN_DEFAULTS } from './config.ts';

/** One command-line flag. */
export interface FlagSpec {
  /** Long name without the leading dashes. */
  name: string;
  /** `string` flags take a value; `boolean` flags are switches. */
  type: 'string' | 'boolean';
  /** One-letter alias, if any. */
  short?: string;
  /** Placeholder for the value in help text, e.g. `<int>`. */
  value?: string;
  /** One-line description. */
  help: string;
  /** Default as shown in help; omitted when there is none. */
  default?: string;
}

/** The commands `parseCli` understands. */
export const COMMANDS = ['train', 'generate'] as const;
/** A command name. */
export type CommandName = (typeof COMMANDS)[number];

const HELP: FlagSpec = { name: 'help', type: 'boolean', short: 'h', help: 'show this help and exit' };

/** Flags of `tinytape train`. */
export const TRAIN_FLAGS: readonly FlagSpec[] = [
  { name: 'dataset', type: 'string', value: `<${DATASETS.join('|')}>`, help: 'built-in corpus', default: TRAIN_DEFAULTS.dataset },
  { name: 'data', type: 'string', value: '<file>', help: 'train on your own UTF-8 text file instead of --dataset' },
  { name: 'data-dir', type: 'string', value: '<dir>', help: 'where built-in corpora are cached and found', default: 'the data package cache' },
  { name: 'model', type: 'string', value: `<${MODELS.join('|')}>`, help: 'from-scratch RNN, GRU or LSTM (scratch-*) or a concise recurrent layer', default: TRAIN_DEFAULTS.model },
  { name: 'hidden', type: 'string', value: '<int>', help: 'hidden units per layer', default: String(TRAIN_DEFAULTS.hidden) },
  { name: 'layers', type: 'string', value: '<int>', help: 'stacked recurrent layers', default: String(TRAIN_DEFAULTS.layers) },
  { name: 'bidirectional', type: 'boolean', help: 'add a backward direction', default: 'off' },
  { name: 'optimizer', type: 'string', value: `<${OPTIMIZERS.join('|')}>`, help: 'optimizer', default: TRAIN_DEFAULTS.optimizer },
  { name: 'epochs', type: 'string', value: '<int>', help: 'passes over the data', default: String(TRAIN_DEFAULTS.epochs) },
  { name: 'lr', type: 'string', value: '<float>', help: 'learning rate', default: `${TRAIN_DEFAULTS.lr}; ${ADAM_DEFAULT_LR} with adam` },
  { name: 'clip', type: 'string', value: '<float>', help: 'gradient-norm clipping threshold', default: String(TRAIN_DEFAULTS.clip) },
  { name: 'batch-size', type: 'string', value: '<int>', help: 'subsequences per minibatch', default: String(TRAIN_DEFAULTS.batchSize) },
  { name: 'num-steps', type: 'string', value: '<int>', help: 'time steps per subsequence', default: String(TRAIN_DEFAULTS.numSteps) },
  { name: 'max-tokens', type: 'string', value: '<int>', help: 'corpus tokens to use, -1 for all', default: String(TRAIN_DEFAULTS.maxTokens) },
  { name: 'random-iter', type: 'boolean', help: 'random instead of sequential partitioning', default: 'sequential' },
  { name: 'device', type: 'string', value: `<${DEVICES.join('|')}>`, help: 'compute device', default: TRAIN_DEFAULTS.device },
  { name: 'seed', type: 'string', value: '<int>', help: 'random seed, >= 0', default: String(TRAIN_DEFAULTS.seed) },
  { name: 'save', type: 'string', value: '<file>', help: 'write a safetensors checkpoint here (also on Ctrl-C)' },
  { name: 'resume', type: 'string', value: '<file>', help: 'continue the run a --save checkpoint holds (give its flags)' },
  { name: 'plot', type: 'string', value: '<file.svg>', help: 'rewrite a perplexity chart each epoch' },
  { name: 'csv', type: 'string', value: '<file.csv>', help: 'write a per-epoch log' },
  { name: 'json', type: 'boolean', help: 'print JSON lines instead of text', default: 'off' },
  { name: 'prefixes', type: 'string', value: '<a,b,...>', help: 'comma-separated prefixes to continue while training', default: `"${TRAIN_DEFAULTS.prefixes.join(',')}"` },
  { name: 'pred-period', type: 'string', value: '<int>', help: 'show predictions every this many epochs', default: String(TRAIN_DEFAULTS.predPeriod) },
  { name: 'pred-len', type: 'string', value: '<int>', help: 'characters to predict per prefix', default: String(TRAIN_DEFAULTS.predLen) },
  { name: 'allow-nan', type: 'boolean', help: 'keep training when the loss becomes NaN', default: 'stop' },
  { name: 'quiet', type: 'boolean', help: 'print only the final result', default: 'off' },
  { name: 'profile', type: 'boolean', help: 'print time and calls per kernel', default: 'off' },
  HELP,
];

/** Flags of `tinytape generate`. */
export const GENERATE_FLAGS: readonly FlagSpec[] = [
  { name: 'checkpoint', type: 'string', value: '<file>', help: 'safetensors checkpoint to load (required)' },
  { name: 'prefix', type: 'string', value: '<text>', help: 'text to continue (required)' },
  { name: 'num', type: 'string', value: '<int>', help: 'characters to generate', default: String(GENERATE_DEFAULTS.num) },
  { name: 'temperature', type: 'string', value: '<float>', help: 'sampling temperature, > 0', default: 'greedy argmax' },
  { name: 'seed', type: 'string', value: '<int>', help: 'random seed for sampling, >= 0', default: String(GENERATE_DEFAULTS.seed) },
  { name: 'device', type: 'string', value: `<${DEVICES.join('|')}>`, help: 'compute device', default: GENERATE_DEFAULTS.device },
  HELP,
];

/** The flag table of `command`. */
export function flagsOf(command: CommandName): readonly FlagSpec[] {
  return command === 'train' ? TRAIN_FLAGS : GENERATE_FLAGS;
}
