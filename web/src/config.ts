/*
 * The page's run configuration and its URL contract: every field can be set by a query parameter, so a
 * link reproduces a run and tests can drive the page (`?model=rnn&hidden=32&epochs=3&device=cpu&autostart=1`).
 * Platform-neutral (no DOM), so Node tests read the same parser the page uses.
 */
import type { ModelSpec } from '@tinytape/rnn';

/** The models the page trains, by the CLI's `--model` names. */
export const MODELS = ['scratch', 'scratch-gru', 'scratch-lstm', 'rnn', 'gru', 'lstm'] as const;
export type ModelName = (typeof MODELS)[number];

/** `auto` takes WebGPU when the browser gives an adapter, else the wasm CPU backend. */
export const DEVICE_CHOICES = ['auto', 'webgpu', 'cpu'] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

export const ITERATORS = ['sequential', 'random'] as const;
export type IteratorName = (typeof ITERATORS)[number];

/** Everything a training run in the page depends on. */
export interface RunConfig {
  model: ModelName;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  epochs: number;
  lr: number;
  clip: number;
  batchSize: number;
  numSteps: number;
  /** Characters of the cleaned text trained on (d2l: the first 10,000). */
  maxTokens: number;
  iterator: IteratorName;
  device: DeviceChoice;
  seed: number;
}

/** d2l chapter 8's settings; hidden is the book's 512 for the scratch models and 256 for the concise ones. */
export const DEFAULTS: RunConfig = {
  model: 'rnn',
  hidden: 256,
  layers: 1,
  bidirectional: false,
  epochs: 500,
  lr: 1,
  clip: 1,
  batchSize: 32,
  numSteps: 35,
  maxTokens: 10_000,
  iterator: 'sequential',
  device: 'auto',
  seed: 0,
};

/** The book's hidden size for a model: 512 in §8.5 (from scratch), 256 in §8.6 and chapter 9 (concise). */
export function bookHidden(model: ModelName): number {
  return model.startsWith('scratch') ? 512 : 256;
}

/** Query parameter -> config field, for the fields whose names differ. */
const PARAM_NAMES: Record<string, keyof RunConfig> = {
  model: 'model',
  hidden: 'hidden',
  layers: 'layers',
  bidirectional: 'bidirectional',
  epochs: 'epochs',
  lr: 'lr',
  clip: 'clip',
  batch: 'batchSize',
  steps: 'numSteps',
  tokens: 'maxTokens',
  iterator: 'iterator',
  device: 'device',
  seed: 'seed',
};

/** How messages name a field: by its query parameter. */
function paramOf(key: keyof RunConfig): string {
  return Object.keys(PARAM_NAMES).find((param) => PARAM_NAMES[param] === key) ?? key;
}

/** Upper bounds beyond which a value is a typo (the same spirit as the CLI's LIMITS). */
const LIMITS = { hidden: 8192, layers: 16, epochs: 100_000, batchSize: 4096, numSteps: 4096 } as const;

/** A configuration and the page's own switches, as read from a URL's query. */
export interface UrlSettings {
  config: RunConfig;
  /** `autostart=1`: begin training as soon as the page has loaded. */
  autostart: boolean;
}

/** A query parameter the page cannot use; the message names it and says what it expects. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads the URL contract from a query string (`location.search`). Absent parameters keep the defaults;
 * `hidden` defaults to the book's size for the chosen model.
 *
 * @throws {@link ConfigError} for an unknown parameter or a value out of range.
 */
export function parseUrl(search: string): UrlSettings {
  const params = new URLSearchParams(search);
  const given = new Map<string, string>();
  let autostart = false;
  for (const [key, value] of params) {
    if (key === 'autostart') autostart = parseBool(key, value);
    else if (Object.hasOwn(PARAM_NAMES, key)) given.set(PARAM_NAMES[key]!, value);
    else throw new ConfigError(`unknown URL parameter "${key}" (known: ${[...Object.keys(PARAM_NAMES), 'autostart'].join(', ')})`);
  }
  const raw: Partial<Record<keyof RunConfig, string>> = Object.fromEntries(given);
  return { config: readConfig(raw), autostart };
}

/**
 * Builds a checked configuration from text values by field name (a form's or a URL's); missing fields
 * take the defaults.
 *
 * @throws {@link ConfigError} naming the first bad field.
 */
export function readConfig(raw: Partial<Record<keyof RunConfig, string>>): RunConfig {
  const model = raw.model === undefined ? DEFAULTS.model : oneOf('model', raw.model, MODELS);
  const int = (key: keyof typeof LIMITS | 'seed', min: number, max: number, fallback: number): number => {
    const text = raw[key];
    if (text === undefined || text === '') return fallback;
    const v = Number(text);
    if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${paramOf(key)}: expected an integer from ${min} to ${max}, got "${text}"`);
    return v;
  };
  const positive = (key: 'lr' | 'clip', fallback: number): number => {
    const text = raw[key];
    if (text === undefined || text === '') return fallback;
    const v = Number(text);
    if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`${key}: expected a number > 0, got "${text}"`);
    return v;
  };
  const config: RunConfig = {
    model,
    hidden: int('hidden', 1, LIMITS.hidden, bookHidden(model)),
    layers: int('layers', 1, LIMITS.layers, DEFAULTS.layers),
    bidirectional: raw.bidirectional === undefined ? DEFAULTS.bidirectional : parseBool('bidirectional', raw.bidirectional),
    epochs: int('epochs', 1, LIMITS.epochs, DEFAULTS.epochs),
    lr: positive('lr', DEFAULTS.lr),
    clip: positive('clip', DEFAULTS.clip),
    batchSize: int('batchSize', 1, LIMITS.batchSize, DEFAULTS.batchSize),
    numSteps: int('numSteps', 1, LIMITS.numSteps, DEFAULTS.numSteps),
    maxTokens: readMaxTokens(raw.maxTokens),
    iterator: raw.iterator === undefined ? DEFAULTS.iterator : oneOf('iterator', raw.iterator, ITERATORS),
    device: raw.device === undefined ? DEFAULTS.device : oneOf('device', raw.device, DEVICE_CHOICES),
    seed: int('seed', 0, 2 ** 32 - 1, DEFAULTS.seed),
  };
  if (config.model.startsWith('scratch') && (config.layers !== 1 || config.bidirectional)) {
    // The CLI's words: the book's scratch models are one unidirectional layer.
    throw new ConfigError(`model ${config.model}: is one unidirectional layer; use model rnn, gru or lstm for ${config.layers} layers${config.bidirectional ? ', bidirectional' : ''}`);
  }
  return config;
}

/** The query string that reproduces `config` (only the fields that differ from the defaults). */
export function toQuery(config: RunConfig, autostart = false): string {
  const params = new URLSearchParams();
  for (const [param, key] of Object.entries(PARAM_NAMES)) {
    const value = config[key];
    const fallback = key === 'hidden' ? bookHidden(config.model) : DEFAULTS[key];
    if (value !== fallback) params.set(param, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  if (autostart) params.set('autostart', '1');
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The model `createModel` builds for a config and a vocabulary of `vocabSize` tokens (as the CLI's flags do). */
export function modelSpec(config: RunConfig, vocabSize: number): ModelSpec {
  if (config.model.startsWith('scratch')) {
    const cell = config.model === 'scratch' ? 'rnn' : config.model === 'scratch-gru' ? 'gru' : 'lstm';
    return { model: 'scratch', cell, vocabSize, numHiddens: config.hidden };
  }
  return {
    model: config.model as 'rnn' | 'gru' | 'lstm',
    vocabSize,
    numHiddens: config.hidden,
    numLayers: config.layers,
    bidirectional: config.bidirectional,
  };
}

/** 'scratch RNN', 'GRU', '2-layer bidirectional LSTM': for the status line and the chart's title. */
export function describeModel(config: Pick<RunConfig, 'model' | 'layers' | 'bidirectional'>): string {
  if (config.model.startsWith('scratch')) return `scratch ${(config.model === 'scratch' ? 'rnn' : config.model.slice(8)).toUpperCase()}`;
  const depth = config.layers > 1 ? `${config.layers}-layer ` : '';
  return `${depth}${config.bidirectional ? 'bidirectional ' : ''}${config.model.toUpperCase()}`;
}

function readMaxTokens(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULTS.maxTokens;
  const v = Number(text);
  // -1 (or 0) means the whole text, as the CLI's --max-tokens.
  if (!Number.isInteger(v) || v < -1) throw new ConfigError(`tokens: expected a positive integer, or -1 for the whole text, got "${text}"`);
  return v;
}

function parseBool(key: string, text: string): boolean {
  if (text === '1' || text === 'true' || text === '') return true;
  if (text === '0' || text === 'false') return false;
  throw new ConfigError(`${key}: expected 1 or 0, got "${text}"`);
}

function oneOf<T extends string>(key: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new ConfigError(`${key}: expected one of ${choices.join(', ')}, got "${text}"`);
}
