/**
 * The exercise scripts' flags: `--name value` pairs over a table of defaults. The value type follows the
 * default (number or string), so a typo such as `--epochs ten` is refused instead of becoming NaN.
 */
import { parseArgs } from 'node:util';

/** A bad flag or value: the runner prints its message alone, without a stack trace, and exits with 2. */
export class FlagError extends Error {
  override name = 'FlagError';
}

/** Flag name -> default value and one line of help. */
export type FlagTable = Record<string, { default: number | string; help: string }>;

/** The parsed values, typed like the defaults. */
export type FlagValues<T extends FlagTable> = { [K in keyof T]: T[K]['default'] extends number ? number : string };

/** `--help` text listing every flag with its default. */
export function helpText(usage: string, table: FlagTable): string {
  const rows = Object.entries(table).map(([name, f]) => `  --${name.padEnd(16)} ${f.help} (default: ${f.default})`);
  return [usage, '', ...rows].join('\n');
}

/**
 * Parses `argv` against `table`; returns `null` when `--help` was given.
 *
 * @throws FlagError for an unknown flag, a missing value, or a value that is not a finite number where
 *   the default is a number.
 */
export function parseFlags<T extends FlagTable>(argv: string[], table: T): FlagValues<T> | null {
  const options: Record<string, { type: 'string' } | { type: 'boolean' }> = { help: { type: 'boolean' } };
  for (const name of Object.keys(table)) options[name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
  if (values.help === true) return null;
  const out: Record<string, number | string> = {};
  for (const [name, f] of Object.entries(table)) {
    const raw = values[name];
    if (typeof raw !== 'string') {
      out[name] = f.default;
    } else if (typeof f.default === 'number') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new FlagError(`--${name}: expected a number, got "${raw}"`);
      out[name] = n;
    } else {
      out[name] = raw;
    }
  }
  return out as FlagValues<T>;
}
