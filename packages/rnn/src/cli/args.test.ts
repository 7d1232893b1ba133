import { describe, expect, it } from 'vitest';
import { CliError, TinytapeUserError } from '../io/errors.ts';
import { parseCli } from './args.ts';
import type { GenerateConfig, TrainConfig } from './config.ts';
import { GENERATE_FLAGS, TRAIN_FLAGS } from './flags.ts';
import { usage } from './usage.ts';

function train(...args: string[]): TrainConfig {
  const r = parseCli(['train', ...args]);
  if (r.command !== 'train') throw new Error(`expected train, got ${r.command}`);
  return r.config;
}

function generate(...args: string[]): GenerateConfig {
  const r = parseCli(['generate', ...args]);
  if (r.command !== 'generate') throw new Error(`expected generate, got ${r.command}`);
  return r.config;
}

/** Runs parseCli and returns the CliError it must throw. */
function cliError(argv: string[]): CliError {
  try {
    parseCli(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect(err).toBeInstanceOf(TinytapeUserError);
    return err as CliError;
  }
  throw new Error(`expected a CliError for ${JSON.stringify(argv)}`);
}

const GEN = ['--checkpoint', 'm.safetensors', '--prefix', 'time'];

describe('train defaults', () => {
  it("equal d2l chapter 8's settings", () => {
    expect(train()).toEqual({
      data: { kind: 'dataset', name: 'timemachine' },
      dataDir: undefined,
      model: 'scratch',
      hidden: 512,
      layers: 1,
      bidirectional: false,
      optimizer: 'sgd',
      epochs: 500,
      lr: 1,
      clip: 1,
      batchSize: 32,
      numSteps: 35,
      maxTokens: 10_000,
      randomIter: false,
      device: 'auto',
      seed: 0,
      save: undefined,
      resume: undefined,
      plot: undefined,
      csv: undefined,
      json: false,
      prefixes: ['time traveller', 'traveller'],
      predPeriod: 10,
      predLen: 50,
      allowNan: false,
      quiet: false,
      profile: false,
    } satisfies TrainConfig);
  });

  it('returns a fresh prefixes array each time', () => {
    const a = train();
    a.prefixes.push('x');
    expect(train().prefixes).toEqual(['time traveller', 'traveller']);
  });
});

describe('train flags', () => {
  it('parses every flag', () => {
    const c = train(
      '--data', 'my.txt', '--data-dir', '/tmp/d', '--model', 'lstm', '--hidden', '256', '--layers', '2',
      '--bidirectional', '--optimizer', 'adam', '--epochs', '10', '--lr', '0.01', '--clip', '5e-1',
      '--batch-size', '64', '--num-steps', '20', '--max-tokens', '-1', '--random-iter', '--device', 'cpu',
      '--seed', '4294967295', '--save', 'm.safetensors', '--resume', 'old.safetensors', '--plot', 'ppl.SVG',
      '--csv', 'log.csv', '--json', '--prefixes', 'a, b ,c', '--pred-period', '5', '--pred-len', '100',
      '--allow-nan', '--quiet', '--profile',
    );
    expect(c).toEqual({
      data: { kind: 'file', path: 'my.txt' }, dataDir: '/tmp/d', model: 'lstm', hidden: 256, layers: 2,
      bidirectional: true, optimizer: 'adam', epochs: 10, lr: 0.01, clip: 0.5, batchSize: 64, numSteps: 20,
      maxTokens: -1, randomIter: true, device: 'cpu', seed: 4294967295, save: 'm.safetensors',
      resume: 'old.safetensors', plot: 'ppl.SVG', csv: 'log.csv', json: true, prefixes: ['a', 'b', 'c'],
      predPeriod: 5, predLen: 100, allowNan: true, quiet: true, profile: true,
    } satisfies TrainConfig);
  });

  it('accepts --flag=value and negative values in both spellings', () => {
    expect(train('--max-tokens=-1').maxTokens).toBe(-1);
    expect(train('--max-tokens', '-1').maxTokens).toBe(-1);
    expect(train('--hidden=8', '--dataset=jaychou').hidden).toBe(8);
    expect(train('--dataset', 'jaychou').data).toEqual({ kind: 'dataset', name: 'jaychou' });
    expect(train('--lr', '.5').lr).toBe(0.5);
    expect(train('--seed', '0').seed).toBe(0);
  });
});

describe('generate', () => {
  it('requires --checkpoint and --prefix and defaults to greedy decoding', () => {
    expect(generate(...GEN)).toEqual({
      checkpoint: 'm.safetensors', prefix: 'time', num: 50, temperature: undefined, seed: 0, device: 'auto',
    } satisfies GenerateConfig);
  });

  it('parses every flag, keeping the prefix verbatim', () => {
    expect(
      generate('--checkpoint', 'c.st', '--prefix', ' the time, ', '--num', '200', '--temperature', '0.8', '--seed', '7', '--device', 'webgpu'),
    ).toEqual({ checkpoint: 'c.st', prefix: ' the time, ', num: 200, temperature: 0.8, seed: 7, device: 'webgpu' });
    expect(generate('--checkpoint', 'c.st', '--prefix=-dash').prefix).toBe('-dash');
  });
});

describe('help', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])('%j gives the overview', (argv) => {
    const r = parseCli(argv);
    expect(r.command).toBe('help');
    if (r.command === 'help') expect(r.text).toContain('Usage: tinytape <command>');
  });

  it.each([
    [['train', '--help'], 'train'],
    [['train', '--hidden', 'oops', '-h'], 'train'],
    [['help', 'generate'], 'generate'],
    [['generate', '-h'], 'generate'],
  ])('%j gives the help of %s', (argv, command) => {
    const r = parseCli(argv);
    expect(r).toEqual({ command: 'help', text: usage(command as 'train' | 'generate') });
  });

  it('lists every flag of each command, with the defaults', () => {
    for (const [command, flags] of [['train', TRAIN_FLAGS], ['generate', GENERATE_FLAGS]] as const) {
      const text = usage(command);
      for (const f of flags) expect(text).toContain(`--${f.name}`);
    }
    const text = usage('train');
    for (const d of ['(default: 512)', '(default: 32)', '(default: 35)', '(default: 10000)', '(default: 500)', '(default: auto)', '(default: timemachine)', '(default: "time traveller,traveller")']) {
      expect(text).toContain(d);
    }
    expect(usage('generate')).toContain('(default: greedy argmax)');
  });
});

/** [argv, message fragment]: every bad input must be a CliError naming the flag and the value. */
type Case = [string[], string];

const INT_FLAGS: { flag: string; command: 'train' | 'generate'; tooBig: string; max: string; kind: string }[] = [
  { flag: 'hidden', command: 'train', tooBig: '65537', max: '65536', kind: 'a positive integer' },
  { flag: 'layers', command: 'train', tooBig: '65', max: '64', kind: 'a positive integer' },
  { flag: 'epochs', command: 'train', tooBig: '2147483648', max: '2147483647', kind: 'a positive integer' },
  { flag: 'batch-size', command: 'train', tooBig: '2147483648', max: '2147483647', kind: 'a positive integer' },
  { flag: 'num-steps', command: 'train', tooBig: '99999999999999999999', max: '2147483647', kind: 'a positive integer' },
  { flag: 'max-tokens', command: 'train', tooBig: '2147483648', max: '2147483647', kind: 'a positive integer or -1 (all tokens)' },
  { flag: 'pred-period', command: 'train', tooBig: '2147483648', max: '2147483647', kind: 'a positive integer' },
  { flag: 'pred-len', command: 'train', tooBig: '1000001', max: '1000000', kind: 'a positive integer' },
  { flag: 'seed', command: 'train', tooBig: '4294967296', max: '4294967295', kind: 'a non-negative integer' },
  { flag: 'num', command: 'generate', tooBig: '1000001', max: '1000000', kind: 'a positive integer' },
  { flag: 'seed', command: 'generate', tooBig: '4294967296', max: '4294967295', kind: 'a non-negative integer' },
];
const FLOAT_FLAGS: { flag: string; command: 'train' | 'generate' }[] = [
  { flag: 'lr', command: 'train' },
  { flag: 'clip', command: 'train' },
  { flag: 'temperature', command: 'generate' },
];

function argvFor(command: 'train' | 'generate', ...flags: string[]): string[] {
  return command === 'train' ? ['train', ...flags] : ['generate', ...GEN, ...flags];
}

const numericCases: Case[] = [];
for (const { flag, command, tooBig, max, kind } of INT_FLAGS) {
  const f = `--${flag}`;
  numericCases.push([argvFor(command, f), `${f}: missing value, expected <int>`]);
  numericCases.push([argvFor(command, f, '--json'), `${f}: missing value`]);
  if (kind.startsWith('a positive')) numericCases.push([argvFor(command, f, '0'), `${f}: expected ${kind}, got "0"`]);
  numericCases.push([argvFor(command, f, '-3'), `${f}: expected ${kind}, got "-3"`]);
  numericCases.push([argvFor(command, `${f}=-2`), `${f}: expected ${kind}, got "-2"`]);
  for (const bad of ['abc', '12abc', '', 'NaN', 'Infinity', '1e999', '2.5', '1e3', '10.0', '0x10', '+5', ' 5', '5 ']) {
    numericCases.push([argvFor(command, `${f}=${bad}`), `${f}: expected ${kind}, got ${JSON.stringify(bad)}`]);
  }
  numericCases.push([argvFor(command, f, tooBig), `${f}: expected ${kind} no larger than ${max}, got "${tooBig}"`]);
}
for (const { flag, command } of FLOAT_FLAGS) {
  const f = `--${flag}`;
  numericCases.push([argvFor(command, f), `${f}: missing value, expected <float>`]);
  numericCases.push([argvFor(command, f, '0'), `${f}: expected a positive number, got "0"`]);
  numericCases.push([argvFor(command, f, '-0'), `${f}: expected a positive number, got "-0"`]);
  numericCases.push([argvFor(command, f, '-0.5'), `${f}: expected a positive number, got "-0.5"`]);
  numericCases.push([argvFor(command, f, '1e-999'), `${f}: expected a positive number, got "1e-999"`]);
  numericCases.push([argvFor(command, f, '1e999'), `${f}: expected a positive number, got "1e999", which is not finite`]);
  for (const bad of ['abc', '12abc', '', 'NaN', 'Infinity', '-Infinity', '0x1', '1.2.3', 'e5', '1e', ' 1']) {
    numericCases.push([argvFor(command, `${f}=${bad}`), `${f}: expected a positive number, got ${JSON.stringify(bad)}`]);
  }
}

const otherCases: Case[] = [
  [['train', '--hiden', '3'], 'unknown flag "--hiden" for "train" (did you mean "--hidden"?)'],
  [['train', '--verbose'], 'unknown flag "--verbose" for "train"; run "tinytape train --help" for the list'],
  [['train', '-x'], 'unknown flag "-x" for "train"'],
  [['train', '--checkpoint', 'a'], 'unknown flag "--checkpoint" for "train" (it is a flag of "generate")'],
  [['generate', ...GEN, '--epochs', '3'], 'unknown flag "--epochs" for "generate" (it is a flag of "train")'],
  [['trian'], 'unknown command "trian": expected train or generate (did you mean "train"?)'],
  [['fit', '--epochs', '3'], 'unknown command "fit": expected train or generate'],
  [['--epochs', '3'], 'missing command: expected train or generate before "--epochs"'],
  [['help', 'fit'], 'unknown command "fit"'],
  [['help', 'train', 'generate'], 'help: expected at most one command name'],
  [['train', '--data', 'a.txt', '--dataset', 'jaychou'], '--data and --dataset are mutually exclusive: got --data "a.txt" and --dataset "jaychou"'],
  [['train', '--dataset', 'timemachine', '--data', 'a.txt'], '--data and --dataset are mutually exclusive'],
  [['train', '--dataset', 'wiki'], '--dataset: expected one of timemachine, jaychou, got "wiki"'],
  [['train', '--model', 'lstn'], '--model: expected one of scratch, scratch-gru, scratch-lstm, rnn, gru, lstm, got "lstn" (did you mean "lstm"?)'],
  [['train', '--model', 'LSTM'], '--model: expected one of scratch, scratch-gru, scratch-lstm, rnn, gru, lstm, got "LSTM" (did you mean "lstm"?)'],
  [['train', '--optimizer', 'rmsprop'], '--optimizer: expected one of sgd, adam, got "rmsprop"'],
  [['train', '--device', 'gpu'], '--device: expected one of auto, cpu, wasm, reference, webgpu, got "gpu"'],
  [['generate', ...GEN, '--device', 'cuda'], '--device: expected one of auto, cpu, wasm, reference, webgpu, got "cuda"'],
  [['train', '--device'], '--device: missing value, expected <auto|cpu|wasm|reference|webgpu>'],
  [['train', '--hidden', '3', '--hidden', '4'], '--hidden: given more than once; give it once'],
  [['train', '--quiet=yes'], '--quiet: is a switch and takes no value, got "yes"'],
  [['train', '--quiet', 'yes'], '--quiet: is a switch and takes no value, got "yes"'],
  [['train', 'extra'], 'unexpected argument "extra": "train" takes only --flags'],
  [['train', '--save', ''], '--save: expected a file path, got ""'],
  [['train', '--data', ' '], '--data: expected a file path, got " "'],
  [['train', '--plot', 'ppl.png'], '--plot: expected a file name ending in .svg, got "ppl.png"'],
  [['train', '--csv', 'log.tsv'], '--csv: expected a file name ending in .csv, got "log.tsv"'],
  [['train', '--prefixes', 'a,,b'], '--prefixes: expected comma-separated non-empty prefixes, got "a,,b"'],
  [['train', '--prefixes', ''], '--prefixes: expected comma-separated non-empty prefixes, got ""'],
  [['train', '--save', '-m.st'], '--save: value "-m.st" starts with a dash; write --save=-m.st'],
  [['generate', '--prefix', 'x'], '--checkpoint: required'],
  [['generate', '--checkpoint', 'c'], '--prefix: required'],
  [['generate', '--checkpoint', 'c', '--prefix='], '--prefix: expected at least one character, got ""'],
];

describe('bad input is a one-line CliError naming the flag and the value', () => {
  it.each([...numericCases, ...otherCases])('%j', (argv, fragment) => {
    const err = cliError(argv);
    expect(err.message).toContain(fragment);
    expect(err.message).not.toContain('\n');
  });
});
