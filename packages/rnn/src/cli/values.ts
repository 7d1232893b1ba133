/**
 * Strict parsers for flag values. `Number()` alone would accept '', ' 12 ', '0x10' and 'Infinity', and
 * `parseInt` accepts '12abc'; a typo in a hyper-parameter should stop the run, not silently change it.
 */
import { CliError } from '../io/errors.ts';
import { suggest } from './suggest.ts';

/** Plain decimal integer, optional minus sign, nothing else. */
const INT = /^-?\d+$/;
/** Decimal number with optional fraction and exponent; no hex, no 'Infinity', no whitespace. */
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Integer bounds of a flag, plus an optional special value (like -1 meaning "all"). */
export interface IntRange {
  /** Smallest ordinary value (0 or 1). */
  min: number;
  /** Largest accepted value. */
  max: number;
  /** A value outside `[min, max]` that is still allowed, with how to describe it. */
  special?: { value: number; meaning: string };
}

/**
 * Parses `raw` as an integer within `range`.
 *
 * @param flag - flag name with dashes, used in the message (`--hidden`).
 * @throws {@link CliError} like `--hidden: expected a positive integer, got "-3"`.
 */
export function parseIntFlag(flag: string, raw: string, range: IntRange): number {
  const kind = range.min >= 1 ? 'a positive integer' : range.min === 0 ? 'a non-negative integer' : `an integer >= ${range.min}`;
  const expected = range.special ? `${kind} or ${range.special.value} (${range.special.meaning})` : kind;
  if (!INT.test(raw)) {
    throw new CliError(`${flag}: expected ${expected}, got ${quote(raw)}`);
  }
  // `+ 0` turns "-0" into 0. Digits only, so Number() cannot misread it; huge values fail the max check below.
  const n = Number(raw) + 0;
  if (range.special && n === range.special.value) return n;
  if (n < range.min) {
    throw new CliError(`${flag}: expected ${expected}, got ${quote(raw)}`);
  }
  if (n > range.max) {
    throw new CliError(`${flag}: expected ${expected} no larger than ${range.max}, got ${quote(raw)}`);
  }
  return n;
}

/**
 * Parses `raw` as a finite number greater than zero (learning rate, clip threshold, temperature).
 *
 * @throws {@link CliError} like `--lr: expected a positive number, got "0"`.
 */
export function parsePositiveFloatFlag(flag: string, raw: string): number {
  const n = FLOAT.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) && FLOAT.test(raw)) {
    throw new CliError(`${flag}: expected a positive number, got ${quote(raw)}, which is not finite`);
  }
  if (!(n > 0)) {
    throw new CliError(`${flag}: expected a positive number, got ${quote(raw)}`);
  }
  return n;
}

/**
 * Checks `raw` is one of `allowed`.
 *
 * @throws {@link CliError} like `--model: expected one of scratch, rnn, gru, lstm, got "lstn" (did you mean "lstm"?)`.
 */
export function parseEnumFlag<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  const hint = suggest(raw, allowed);
  throw new CliError(`${flag}: expected one of ${allowed.join(', ')}, got ${quote(raw)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
}

/**
 * Checks `raw` is a usable file path, optionally with a required extension.
 *
 * @throws {@link CliError} like `--plot: expected a file name ending in .svg, got "loss.png"`.
 */
export function parsePathFlag(flag: string, raw: string, extension?: string): string {
  if (raw.trim() === '') {
    throw new CliError(`${flag}: expected a file path, got ${quote(raw)}`);
  }
  if (extension !== undefined && !raw.toLowerCase().endsWith(extension)) {
    throw new CliError(`${flag}: expected a file name ending in ${extension}, got ${quote(raw)}`);
  }
  return raw;
}

/**
 * Splits a comma-separated list of prefixes, trimming the spaces people type after commas.
 *
 * @throws {@link CliError} when any entry is empty (a prediction needs at least one character to start from).
 */
export function parsePrefixList(flag: string, raw: string): string[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) {
    throw new CliError(`${flag}: expected comma-separated non-empty prefixes, got ${quote(raw)}`);
  }
  return parts;
}

/** Quotes a user value for a message; JSON escaping keeps control characters visible and the line single. */
export function quote(raw: string): string {
  return JSON.stringify(raw);
}
