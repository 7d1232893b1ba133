/**
 * `parseCli`: turns the words after the program name into a validated, typed configuration for `train`
 * or `generate`, or a help text. Syntax is left to `node:util`'s strict `parseArgs`; this module adds the
 * semantic checks and rewrites every failure as a one-line {@link CliError} that names the flag.
 */
import { parseArgs } from 'node:util';
import { CliError } from '../io/errors.ts';
import {
  ADAM_DEFAULT_LR,
  DATASETS,
  DEVICES,
  GENERATE_DEFAULTS,
  INT32_MAX,
  LIMITS,
  MODELS,
  OPTIMIZERS,
  TRAIN_DEFAULTS,
  UINT32_MAX,
  type DataSource,
  type GenerateConfig,
  type TrainConfig,
} from './config.ts';
import { COMMANDS, flagsOf, type CommandName, type FlagSpec } from './flags.ts';
import { suggest } from './suggest.ts';
import { PROGRAM, usage } from './usage.ts';
import { parseEnumFlag, parseIntFlag, parsePathFlag, parsePositiveFloatFlag, parsePrefixList, quote, type IntRange } from './values.ts';

/** What the command line asks for. */
export type CliCommand =
  | { command: 'train'; config: TrainConfig }
  | { command: 'generate'; config: GenerateConfig }
  | { command: 'help'; text: string };

/** Raw flag values as `parseArgs` returns them. */
type RawValues = Record<string, string | boolean | undefined>;

const POSITIVE: IntRange = { min: 1, max: INT32_MAX };
const SEED: IntRange = { min: 0, max: UINT32_MAX };

/**
 * Parses a command line.
 *
 * @param argv - the arguments after the program name, e.g. `process.argv.slice(2)`.
 * @returns the typed configuration, or `{command: 'help'}` for no arguments, `help [command]`, `-h` or `--help`.
 * @throws {@link CliError} for an unknown command or flag, a missing, malformed or out-of-range value, a
 *   value outside an enum, a repeated flag, or `--data` together with `--dataset`.
 */
export function parseCli(argv: string[]): CliCommand {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') return { command: 'help', text: usage() };
  if (first === 'help') {
    if (rest.length === 0) return { command: 'help', text: usage() };
    if (rest.length > 1) throw new CliError(`help: expected at most one command name, got ${rest.map(quote).join(' ')}`);
    return { command: 'help', text: usage(toCommand(rest[0]!)) };
  }
  const command = toCommand(first);
  // Help wins over any other problem on the line: someone asking for help is usually fixing one.
  if (rest.some((a) => a === '-h' || a === '--help')) return { command: 'help', text: usage(command) };
  const values = parseFlags(command, rest);
  return command === 'train'
    ? { command, config: trainConfig(values) }
    : { command, config: generateConfig(values) };
}

function toCommand(word: string): CommandName {
  if ((COMMANDS as readonly string[]).includes(word)) return word as CommandName;
  if (word.startsWith('-')) {
    throw new CliError(`missing command: expected ${COMMANDS.join(' or ')} before ${quote(word)}`);
  }
  const hint = suggest(word, COMMANDS);
  throw new CliError(
    `unknown command ${quote(word)}: expected ${COMMANDS.join(' or ')}${hint ? ` (did you mean "${hint}"?)` : ''}`,
  );
}

/** Runs strict `parseArgs` over the flags of `command` and rejects repeated flags. */
function parseFlags(command: CommandName, args: string[]): RawValues {
  const specs = flagsOf(command);
  const options = Object.fromEntries(
    specs.map((f) => [f.name, f.short ? { type: f.type, short: f.short } : { type: f.type }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: attachNegativeValues(args, specs), options, strict: true, allowPositionals: false, tokens: true });
  } catch (err) {
    throw translateParseError(err, command, specs, args);
  }
  // parseArgs silently keeps the last of repeated flags; with hyper-parameters that hides a typo.
  const seen = new Map<string, number>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    const count = (seen.get(t.name) ?? 0) + 1;
    seen.set(t.name, count);
    if (count === 2) throw new CliError(`--${t.name}: given more than once; give it once`);
  }
  return parsed.values as RawValues;
}

/**
 * Rewrites `--flag -3` as `--flag=-3` for value-taking flags. Strict `parseArgs` refuses a value that
 * starts with a dash as ambiguous, but `--max-tokens -1` is a documented value and `--seed -1` deserves
 * the range message, not a syntax one.
 */
function attachNegativeValues(args: string[], specs: readonly FlagSpec[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const spec = a.startsWith('--') && !a.includes('=') ? specs.find((f) => f.name === a.slice(2)) : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Turns a `parseArgs` error into a one-line CliError naming the flag; other errors pass through. */
function translateParseError(err: unknown, command: CommandName, specs: readonly FlagSpec[], args: string[]): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  // parseArgs quotes the offending option first: 'Unknown option '--foo'', 'Option '--hidden <value>' ...'.
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const flag = /--[^\s<>]+/.exec(quoted)?.[0] ?? quoted;
  const help = `run "${PROGRAM} ${command} --help" for the list`;

  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const names = specs.map((f) => `--${f.name}`);
    const other = COMMANDS.find((c) => c !== command && flagsOf(c).some((f) => `--${f.name}` === flag));
    const hint = other ? ` (it is a flag of "${other}")` : suggest(flag, names) ? ` (did you mean "${suggest(flag, names)}"?)` : '';
    return new CliError(`unknown flag ${quote(flag)} for "${command}"${hint}; ${help}`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const spec = specs.find((f) => `--${f.name}` === flag);
    if (/does not take an argument/.test(message)) {
      const given = args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1) ?? '';
      return new CliError(`${flag}: is a switch and takes no value, got ${quote(given)}`);
    }
    const next = args[args.indexOf(flag) + 1];
    const expected = spec?.value ?? 'a value';
    // `--flag --other` is a forgotten value; `--flag -text` (one dash, not a number) is a dash-led value.
    if (next !== undefined && next.startsWith('-') && !next.startsWith('--') && !specs.some((f) => f.short && next === `-${f.short}`)) {
      return new CliError(`${flag}: value ${quote(next)} starts with a dash; write ${flag}=${next}`);
    }
    return new CliError(`${flag}: missing value, expected ${expected}`);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const index = args.indexOf(quoted);
    const before = index > 0 ? specs.find((f) => args[index - 1] === `--${f.name}`) : undefined;
    if (before?.type === 'boolean') {
      return new CliError(`--${before.name}: is a switch and takes no value, got ${quote(quoted)}`);
    }
    return new CliError(`unexpected argument ${quote(quoted)}: "${command}" takes only --flags; ${help}`);
  }
  return err;
}

/** Validates the raw values of `train` into a TrainConfig. */
function trainConfig(v: RawValues): TrainConfig {
  const s = (name: string): string | undefined => v[name] as string | undefined;
  const b = (name: string): boolean => v[name] === true;
  const int = (name: string, fallback: number, range: IntRange): number => {
    const raw = s(name);
    return raw === undefined ? fallback : parseIntFlag(`--${name}`, raw, range);
  };
  const float = (name: string, fallback: number): number => {
    const raw = s(name);
    return raw === undefined ? fallback : parsePositiveFloatFlag(`--${name}`, raw);
  };
  const path = (name: string, extension?: string): string | undefined => {
    const raw = s(name);
    return raw === undefined ? undefined : parsePathFlag(`--${name}`, raw, extension);
  };

  const dataFile = s('data');
  const dataset = s('dataset');
  if (dataFile !== undefined && dataset !== undefined) {
    throw new CliError(`--data and --dataset are mutually exclusive: got --data ${quote(dataFile)} and --dataset ${quote(dataset)}; give one`);
  }
  const data: DataSource =
    dataFile !== undefined
      ? { kind: 'file', path: parsePathFlag('--data', dataFile) }
      : { kind: 'dataset', name: parseEnumFlag('--dataset', dataset ?? TRAIN_DEFAULTS.dataset, DATASETS) };

  const optimizer = parseEnumFlag('--optimizer', s('optimizer') ?? TRAIN_DEFAULTS.optimizer, OPTIMIZERS);
  return {
    data,
    dataDir: path('data-dir'),
    model: parseEnumFlag('--model', s('model') ?? TRAIN_DEFAULTS.model, MODELS),
    hidden: int('hidden', TRAIN_DEFAULTS.hidden, { min: 1, max: LIMITS.hidden }),
    layers: int('layers', TRAIN_DEFAULTS.layers, { min: 1, max: LIMITS.layers }),
    bidirectional: b('bidirectional'),
    optimizer,
    epochs: int('epochs', TRAIN_DEFAULTS.epochs, POSITIVE),
    // The book's lr 1 suits SGD; Adam's steps are already normalised, and PyTorch's default is 1e-3.
    lr: float('lr', optimizer === 'adam' ? ADAM_DEFAULT_LR : TRAIN_DEFAULTS.lr),
    clip: float('clip', TRAIN_DEFAULTS.clip),
    batchSize: int('batch-size', TRAIN_DEFAULTS.batchSize, POSITIVE),
    numSteps: int('num-steps', TRAIN_DEFAULTS.numSteps, POSITIVE),
    maxTokens: int('max-tokens', TRAIN_DEFAULTS.maxTokens, { ...POSITIVE, special: { value: -1, meaning: 'all tokens' } }),
    randomIter: b('random-iter'),
    device: parseEnumFlag('--device', s('device') ?? TRAIN_DEFAULTS.device, DEVICES),
    seed: int('seed', TRAIN_DEFAULTS.seed, SEED),
    save: path('save'),
    resume: path('resume'),
    plot: path('plot', '.svg'),
    csv: path('csv', '.csv'),
    json: b('json'),
    prefixes: s('prefixes') === undefined ? [...TRAIN_DEFAULTS.prefixes] : parsePrefixList('--prefixes', s('prefixes')!),
    predPeriod: int('pred-period', TRAIN_DEFAULTS.predPeriod, POSITIVE),
    predLen: int('pred-len', TRAIN_DEFAULTS.predLen, { min: 1, max: LIMITS.generate }),
    allowNan: b('allow-nan'),
    quiet: b('quiet'),
    profile: b('profile'),
  };
}

/** Validates the raw values of `generate` into a GenerateConfig. */
function generateConfig(v: RawValues): GenerateConfig {
  const checkpoint = v.checkpoint as string | undefined;
  const prefix = v.prefix as string | undefined;
  if (checkpoint === undefined) throw new CliError('--checkpoint: required, expected the safetensors file to load');
  if (prefix === undefined) throw new CliError('--prefix: required, expected the text to continue');
  if (prefix === '') throw new CliError('--prefix: expected at least one character, got ""');
  const num = v.num as string | undefined;
  const temperature = v.temperature as string | undefined;
  const seed = v.seed as string | undefined;
  return {
    checkpoint: parsePathFlag('--checkpoint', checkpoint),
    prefix,
    num: num === undefined ? GENERATE_DEFAULTS.num : parseIntFlag('--num', num, { min: 1, max: LIMITS.generate }),
    temperature: temperature === undefined ? undefined : parsePositiveFloatFlag('--temperature', temperature),
    seed: seed === undefined ? GENERATE_DEFAULTS.seed : parseIntFlag('--seed', seed, SEED),
    device: parseEnumFlag('--device', (v.device as string | undefined) ?? GENERATE_DEFAULTS.device, DEVICES),
  };
}
