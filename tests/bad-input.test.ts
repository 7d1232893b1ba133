/*
 * The catalogue of bad input (issue 9): every way a user can hand tinytape something wrong, each with
 * the error class it must raise (API) or the exit status and single stderr line it must print (CLI),
 * and a fragment of the message. A regression — a crash deep inside a kernel, a stack trace, a second
 * line, a silently accepted typo — fails its own case by name.
 *
 * The CLI cases call `main` in this process (parsing fails before anything heavy runs); Ctrl-C, which
 * needs a real process, is in interrupt.test.ts, and resuming in resume.test.ts.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDir, run } from './cli-harness.ts';
import { noGrad } from '@tinytape/autograd';
import { CharVocab, DataError, Vocab, download, loadDataTimeMachine, readTimeMachine } from '@tinytape/data';
import {
  DTypeError, Device, DeviceError, ShapeError, StateError, type Tensor, ValueError, add, arange, argmax, axpy_, assign_,
  concat, cpu, crossEntropy, exp, full, gather, matmul, mean, mul, normal, oneHot, permute, releaseDevices, reshape,
  slice, softmax, squeeze, stack, sum, swapaxes, tensor, tryGpu, webgpu, zeros, type WebGPUBackend,
} from '@tinytape/tensor';
import { createCpuBackend } from '../packages/tensor/src/backends/cpu/index.ts';
import { parseCli } from '../packages/rnn/src/cli/args.ts';
import { main } from '../packages/rnn/src/cli/main.ts';
import {
  CheckpointError, CliError, NonFiniteLossError, createModel, getParams, initRnnState, loadCheckpoint, loadParameters,
  modelFromCheckpoint, predict, rnn, RNNModelScratch, saveCheckpoint, train,
} from '../packages/rnn/src/index.ts';
import { decodeSafetensors, encodeSafetensors } from '../packages/rnn/src/io/safetensors.ts';

let dir = '';
/** A tiny scratch-RNN checkpoint trained on The Time Machine, for the generate and resume cases. */
let ckpt = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tinytape-bad-input-'));
  ckpt = path.join(dir, 'tiny.safetensors');
  const r = await run('train', ...TINY, '--epochs', '1', '--save', ckpt);
  if (r.code !== 0) throw new Error(`could not train the fixture checkpoint: ${r.err.join('\n')}`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await releaseDevices();
});

const TINY_FLAGS: Record<string, string> = { device: 'cpu', 'data-dir': dataDir, hidden: '8', 'batch-size': '4', 'num-steps': '8', 'max-tokens': '600', 'pred-len': '4' };
/** Flags of a tiny CPU run; `overrides` replaces values (or, given undefined, drops the flag). */
function tiny(overrides: Record<string, string | undefined> = {}): string[] {
  const flags = { ...TINY_FLAGS, ...overrides };
  return [...Object.entries(flags).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, v])), '--quiet'];
}
const TINY = tiny();


/** The CLI's contract for bad input: status 2 (unless said otherwise), exactly one stderr line, no stack. */
async function expectCliError(argv: string[], fragment: string | RegExp, status = 2): Promise<string> {
  const r = await run(...argv);
  expect(r.err, `stderr of ${argv.join(' ')}`).toHaveLength(1);
  const line = r.err[0]!;
  expect(line.startsWith('tinytape: ')).toBe(true);
  if (typeof fragment === 'string') expect(line).toContain(fragment);
  else expect(line).toMatch(fragment);
  expect(line).not.toMatch(/\n|\s+at \S+ \(|\.ts:\d+:\d+/);
  expect(r.code).toBe(status);
  return line;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Runs `fn` and checks it throws exactly an instance of `cls` whose message contains `fragment`. */
function expectThrow(fn: () => unknown, cls: ErrorClass, fragment: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an error').toBeInstanceOf(cls);
  const message = (caught as Error).message;
  if (typeof fragment === 'string') expect(message).toContain(fragment);
  else expect(message).toMatch(fragment);
}

async function expectReject(promise: Promise<unknown>, cls: ErrorClass, fragment: string | RegExp): Promise<void> {
  const caught = await promise.then(() => undefined, (error: unknown) => error);
  expect(caught, 'expected a rejection').toBeInstanceOf(cls);
  const message = (caught as Error).message;
  if (typeof fragment === 'string') expect(message).toContain(fragment);
  else expect(message).toMatch(fragment);
}

// ------------------------------------------------------------------------------------------------ ops

describe('tensor ops: wrong shapes, dtypes and devices give typed errors naming the op', () => {
  const f = (shape: number[]) => zeros(shape);
  const i32 = (values: number[]) => tensor(values, { dtype: 'int32' });
  // A second CPU device: mixing devices is refused by identity, so this needs no GPU.
  const other = new Device('cpu', createCpuBackend(), 'cpu (second)');
  const elsewhere = (shape: number[]) => zeros(shape, { device: other });

  const cases: [string, () => unknown, ErrorClass, string | RegExp][] = [
    // creation
    ['tensor: values that do not fill the shape', () => tensor([1, 2, 3], { shape: [2, 2] }), ShapeError, 'tensor: 3 values do not fill shape [2,2]'],
    ['tensor: ragged nested array', () => tensor([[1, 2], [3]]), ShapeError, 'ragged'],
    ['tensor: non-integer int32 data', () => tensor([1.5], { dtype: 'int32' }), ValueError, 'non-integer 1.5'],
    ['zeros: negative dimension', () => zeros([2, -1]), ShapeError, 'bad dimension -1'],
    ['zeros: fractional dimension', () => zeros([2.5]), ShapeError, 'bad dimension 2.5'],
    ['full: NaN into int32', () => full([2], Number.NaN, { dtype: 'int32' }), ValueError, 'NaN cannot be stored as int32'],
    ['arange: zero step', () => arange(0, 5, 0), ValueError, 'step must be a non-zero finite number'],
    ['normal: negative std', () => normal(0, -1, [2]), ValueError, 'std must be a finite number >= 0'],
    ['requiresGrad on int32', () => tensor([1], { dtype: 'int32', requiresGrad: true }), ValueError, 'only float32 tensors'],
    // elementwise
    ['add: shapes that do not broadcast', () => add(f([2, 3]), f([4, 3])), ShapeError, 'cannot be broadcast together'],
    ['mul: tensors on different devices', () => mul(f([2]), elsewhere([2])), DeviceError, 'tensors are on different devices'],
    ['add: a plain array for a tensor', () => add([1, 2] as unknown as Tensor, f([2])), DTypeError, 'add: first operand must be a'],
    ['exp: a disposed tensor', () => { const t = f([2]); t.dispose(); return exp(t); }, StateError, 'was disposed'],
    // matmul
    ['matmul: inner dimensions differ', () => matmul(f([32, 28]), f([512, 28])), ShapeError, 'matmul: inner dimensions differ: [32,28] x [512,28]'],
    ['matmul: a 1-D operand', () => matmul(f([3]), f([3, 2])), ShapeError, 'at least 2 dimensions'],
    ['matmul: tensors on different devices', () => matmul(f([2, 2]), elsewhere([2, 2])), DeviceError, 'different devices'],
    ['matmul: int32 operand', () => matmul(i32([1, 2, 3, 4]).reshape([2, 2]), f([2, 2])), DTypeError, 'matmul'],
    // reductions
    ['sum: axis out of range', () => sum(f([2, 3]), 2), ShapeError, 'sum: axis 2 out of range for shape [2,3]'],
    ['mean: non-integer axis', () => mean(f([2, 3]), 0.5), ValueError, 'axis must be an integer'],
    ['argmax: empty axis', () => argmax(f([2, 0]), 1), ShapeError, 'is empty'],
    // shapes
    ['reshape: element count differs', () => reshape(f([2, 3]), [4, 2]), ShapeError, 'cannot reshape [2,3]'],
    ['permute: not a permutation', () => permute(f([2, 3]), [0, 0]), ShapeError, 'not a permutation'],
    ['swapaxes: axis out of range', () => swapaxes(f([2, 3]), 0, 3), ShapeError, 'swapaxes: axis 3 out of range for shape [2,3]'],
    ['squeeze: axis longer than 1', () => squeeze(f([2, 3]), 0), ShapeError, 'has length 2, not 1'],
    ['slice: range out of bounds', () => slice(f([4]), 0, 2, 9), ShapeError, 'out of bounds'],
    ['concat: mismatched shapes', () => concat([f([2, 3]), f([2, 4])], 0), ShapeError, 'must match except along axis 0'],
    ['concat: empty list', () => concat([], 0), ValueError, 'non-empty list'],
    ['stack: mismatched shapes', () => stack([f([2]), f([3])]), ShapeError, 'same shape'],
    ['stack: tensors on different devices', () => stack([f([2]), elsewhere([2])]), DeviceError, 'different devices'],
    // indexing
    ['gather: float indices', () => gather(f([4, 2]), f([2])), DTypeError, 'gather: indices must be int32'],
    ['gather: tensors on different devices', () => gather(f([4, 2]), tensor([1], { dtype: 'int32', device: other })), DeviceError, 'different devices'],
    ['oneHot: float indices', () => oneHot(f([3]), 4), DTypeError, 'oneHot: indices must be int32'],
    ['oneHot: zero depth', () => oneHot(i32([1]), 0), ValueError, 'depth must be a positive integer'],
    // nn
    ['crossEntropy: float targets', () => crossEntropy(f([3, 4]), f([3])), DTypeError, 'crossEntropy: targets must be int32'],
    ['crossEntropy: targets of another length', () => crossEntropy(f([3, 4]), i32([0, 1])), ShapeError, 'expected logits [N,C] and targets [N]'],
    ['crossEntropy: different devices', () => crossEntropy(f([3, 4]), tensor([0, 1, 2], { dtype: 'int32', device: other })), DeviceError, 'different devices'],
    ['softmax: axis out of range', () => softmax(f([2, 3]), 5), ShapeError, 'out of range'],
    // in place
    ['axpy_: shapes differ', () => axpy_(f([2, 3]), f([3, 2]), 1), ShapeError, 'axpy_: shapes differ'],
    ['assign_: shape differs', () => assign_(f([2]), f([3])), ShapeError, 'assign_'],
    ['add_: on a tensor that requires grad, outside noGrad', () => zeros([2], { requiresGrad: true }).add_(1), StateError, 'requires grad'],
    ['add_: tensors on different devices', () => noGrad(() => f([2]).add_(elsewhere([2]))), DeviceError, 'different devices'],
  ];

  it.each(cases)('%s', (_name, fn, cls, fragment) => {
    expectThrow(fn, cls, fragment);
  });

  it('item: more than one element', async () => {
    await expectReject(f([2]).item(), StateError, 'item: tensor has 2 elements');
  });

  // Plain JavaScript can pass any string where TypeScript allows only the two dtypes.
  it.each([
    ['zeros', () => zeros([2], { dtype: 'float64' as never })],
    ['full', () => full([2], 1, { dtype: 'int8' as never })],
    ['tensor', () => tensor([1, 2], { dtype: 'float16' as never })],
    ['arange', () => arange(0, 3, 1, { dtype: 'bool' as never })],
    ['cast', () => f([2]).cast('float64' as never)],
  ] as const)('%s: an unknown dtype string', (_name, fn) => {
    expectThrow(fn, DTypeError, /unknown dtype "[a-z0-9]+": tinytape tensors are 'float32' or 'int32'/);
  });
});

// ------------------------------------------------------------------------------------------------ loss

describe('a NaN or infinite loss', () => {
  it('train() throws NonFiniteLossError naming the epoch and the batch', async () => {
    const device = cpu();
    const { trainIter, vocab } = await loadDataTimeMachine(4, 8, { dataDir, maxTokens: 600, seed: 0 });
    const net = new RNNModelScratch(vocab.length, 8, device, getParams, initRnnState, rnn);
    noGrad(() => net.params[1]!.fill_(Number.POSITIVE_INFINITY));
    const error = await train(net, trainIter, vocab, 1, 2, device, { log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect(error).toMatchObject({ epoch: 1, batch: 1 });
    expect((error as Error).message).toMatch(/^training diverged: loss is (NaN|Infinity) at epoch 1, batch 1;/);
  });

  it('finite losses so large that the perplexity overflows are divergence too', async () => {
    const device = cpu();
    const { trainIter, vocab } = await loadDataTimeMachine(4, 8, { dataDir, maxTokens: 600, seed: 0 });
    const net = new RNNModelScratch(vocab.length, 8, device, getParams, initRnnState, rnn);
    // b_q puts a logit of 1e4 on <unk> (index 0), which the text never holds: every loss is about 1e4 nats,
    // finite, but exp(1e4) is not.
    const bias = new Float32Array(vocab.length);
    bias[0] = 1e4;
    noGrad(() => net.params[4]!.assign_(tensor(bias, { device })));
    const error = await train(net, trainIter, vocab, 1, 2, device, { log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/^training diverged: perplexity overflows \(mean loss \d+(\.\d+)?\) at epoch 1, batch \d+;/);
  });

  it('the CLI stops with one line and exit status 3', async () => {
    await expectCliError(['train', ...TINY, '--epochs', '3', '--lr', '3e38', '--clip', '1e38'], /training diverged: loss is (NaN|-?Infinity) at epoch 1, batch \d+; .*no checkpoint was being saved/, 3);
  });
});

// ------------------------------------------------------------------------------------------------ text files

describe('text files', () => {
  it('empty file: the CLI says it is empty', async () => {
    const file = path.join(dir, 'empty.txt');
    await writeFile(file, '');
    await expectCliError(['train', ...TINY, '--data', file], `--data ${file}: the file is empty`);
  });

  it('empty file: the API gives a DataError (too short)', async () => {
    const file = path.join(dir, 'empty-api.txt');
    await writeFile(file, '');
    await expectReject(loadDataTimeMachine(4, 8, { path: file }), DataError, 'corpus of 0 tokens is too short');
  });

  it('invalid UTF-8: DataError not-utf8 from the API, one line from the CLI', async () => {
    const file = path.join(dir, 'latin1.txt');
    await writeFile(file, Uint8Array.from([0x74, 0x69, 0x6d, 0x65, 0xe9, 0xff, 0xfe, 0x20, 0x61]));
    await expectReject(readTimeMachine({ path: file }), DataError, 'is not valid UTF-8 text');
    await expectCliError(['train', ...TINY, '--data', file], `${file} is not valid UTF-8 text`);
  });

  it('binary file (NUL bytes): the CLI refuses it as binary', async () => {
    const file = path.join(dir, 'binary.bin');
    await writeFile(file, new Uint8Array(4096).map((_, i) => (i % 7 === 0 ? 0 : 65 + (i % 26))));
    await expectCliError(['train', ...TINY, '--data', file], `--data ${file}: looks like a binary file (a NUL byte at offset 0)`);
  });

  it('a text with no letters (another script): the CLI says nothing is left after cleaning', async () => {
    const file = path.join(dir, 'chinese.txt');
    await writeFile(file, '时光机器'.repeat(500));
    await expectCliError(['train', ...TINY, '--data', file], /--data .*chinese\.txt: .*too short.*letters a-z/);
  });

  it('a file larger than tinytape reads: refused before it is read', async () => {
    const file = path.join(dir, 'huge-sparse.txt');
    await writeFile(file, 'a');
    await truncate(file, 300 * 2 ** 20); // sparse: takes no disk space
    await expectCliError(['train', ...TINY, '--data', file], `--data ${file}: 300 MiB is more than the 256 MiB tinytape reads`);
  });

  it('one 5 MB line without a newline trains normally', async () => {
    const file = path.join(dir, 'one-line.txt');
    const handle = await open(file, 'w');
    await handle.write('the time traveller for so it will be convenient to speak of him '.repeat(80_000));
    await handle.close();
    expect((await readTimeMachine({ path: file })).length).toBe(1);
    const r = await run('train', ...TINY, '--epochs', '1', '--data', file, '--json');
    expect(r.err).toEqual([expect.stringMatching(/^perplexity [\d.]+, [\d.]+ tokens\/sec on cpu$/)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]!)).toMatchObject({ epoch: 1 });
  });
});

describe('data sets', () => {
  it('unknown data set name: DataError from the API', async () => {
    await expectReject(download('wiki', { cacheDir: dir }), DataError, "no data set named 'wiki' in DATA_HUB");
  });

  it('unknown data set name: the CLI names the choices', async () => {
    await expectCliError(['train', '--dataset', 'wiki'], '--dataset: expected one of timemachine, jaychou, got "wiki"');
  });

  it('a --data path that does not exist', async () => {
    await expectCliError(['train', ...TINY, '--data', path.join(dir, 'missing.txt')], 'missing.txt');
  });
});

// ------------------------------------------------------------------------------------------------ CLI flags

/** Every numeric flag with a value of each kind that must be refused, and a fragment of the message. */
type FlagCase = [flag: string, kind: string, value: string | undefined, fragment: string];

const GEN = ['--checkpoint', 'm.safetensors', '--prefix', 'time'];
const TRAIN_NUMERIC: Record<string, { zeroOk?: boolean; tooBig: string; expects: string }> = {
  hidden: { tooBig: '65537', expects: 'a positive integer' },
  layers: { tooBig: '65', expects: 'a positive integer' },
  epochs: { tooBig: '2147483648', expects: 'a positive integer' },
  lr: { tooBig: '1e999', expects: 'a positive number' },
  clip: { tooBig: '1e999', expects: 'a positive number' },
  'batch-size': { tooBig: '2147483648', expects: 'a positive integer' },
  'num-steps': { tooBig: '2147483648', expects: 'a positive integer' },
  'max-tokens': { tooBig: '2147483648', expects: 'a positive integer or -1 (all tokens)' },
  seed: { zeroOk: true, tooBig: '4294967296', expects: 'a non-negative integer' },
  'pred-period': { tooBig: '2147483648', expects: 'a positive integer' },
  'pred-len': { tooBig: '1000001', expects: 'a positive integer' },
};
const GENERATE_NUMERIC: Record<string, { zeroOk?: boolean; tooBig: string; expects: string }> = {
  num: { tooBig: '1000001', expects: 'a positive integer' },
  temperature: { tooBig: '1e999', expects: 'a positive number' },
  seed: { zeroOk: true, tooBig: '4294967296', expects: 'a non-negative integer' },
};

function flagCases(table: typeof TRAIN_NUMERIC): FlagCase[] {
  const out: FlagCase[] = [];
  for (const [flag, spec] of Object.entries(table)) {
    out.push([flag, 'missing', undefined, `--${flag}: missing value`]);
    // -2 rather than -1: --max-tokens -1 is a documented value ("all").
    out.push([flag, 'negative', '-2', `--${flag}: expected ${spec.expects}`]);
    if (!spec.zeroOk) out.push([flag, 'zero', '0', `--${flag}: expected ${spec.expects}`]);
    out.push([flag, 'non-numeric', 'ten', `--${flag}: expected ${spec.expects}, got "ten"`]);
    out.push([flag, 'trailing junk', '12abc', `--${flag}: expected ${spec.expects}, got "12abc"`]);
    out.push([flag, 'out of range', spec.tooBig, `--${flag}: expected ${spec.expects}`]);
  }
  return out;
}

describe('CLI flags: each numeric flag with a missing, negative, zero, non-numeric or out-of-range value', () => {
  it.each(flagCases(TRAIN_NUMERIC))('train --%s (%s: %s)', async (flag, _kind, value, fragment) => {
    const argv = ['train', `--${flag}`, ...(value === undefined ? [] : [value])];
    expectThrow(() => parseCli(argv), CliError, fragment);
    await expectCliError(argv, fragment);
  });

  it.each(flagCases(GENERATE_NUMERIC))('generate --%s (%s: %s)', async (flag, _kind, value, fragment) => {
    const argv = ['generate', ...GEN, `--${flag}`, ...(value === undefined ? [] : [value])];
    expectThrow(() => parseCli(argv), CliError, fragment);
    await expectCliError(argv, fragment);
  });

  it.each([
    [['train', '--device', 'tpu'], '--device: expected one of auto, cpu, wasm, reference, webgpu, got "tpu"'],
    [['train', '--optimizer', 'rmsprop'], '--optimizer: expected one of sgd, adam'],
    [['train', '--model', 'lstn'], '(did you mean "lstm"?)'],
    [['train', '--plot', 'curve.png'], '--plot: expected a file name ending in .svg'],
    [['train', '--save', ' '], '--save: expected a file path'],
    [['train', '--resume'], '--resume: missing value'],
    [['train', '--prefixes', 'a,,b'], '--prefixes: expected comma-separated non-empty prefixes'],
    [['train', '--epochs', '3', '--epochs', '4'], '--epochs: given more than once'],
    [['generate', '--prefix', 'time'], '--checkpoint: required'],
    [['generate', '--checkpoint', 'm.safetensors', '--prefix', ''], '--prefix: expected at least one character'],
  ] as [string[], string][])('other flag errors: %j', async (argv, fragment) => {
    expectThrow(() => parseCli(argv), CliError, fragment);
    await expectCliError(argv, fragment);
  });
});

// ------------------------------------------------------------------------------------------------ prefixes

describe('prefixes with characters the vocabulary lacks', () => {
  it('generate --prefix with upper case and punctuation: one line listing them', async () => {
    await expectCliError(['generate', '--checkpoint', ckpt, '--prefix', 'Time traveller!', '--device', 'cpu'],
      '--prefix: characters not in the model\'s vocabulary: "T", "!" (it knows 28 tokens: " abcdefghijklmnopqrstuvwxyz" and <unk>) (the text is cleaned to lower-case letters a-z and spaces)');
  });

  it('train --prefixes with a character the text lacks', async () => {
    await expectCliError(['train', ...TINY, '--epochs', '1', '--prefixes', 'time,Über'], '--prefixes: "Über" has characters the training text\'s vocabulary lacks: "Ü"');
  });

  it('predict({ strict: true }) throws DataError unknown-token; a CharVocab without fallback always does', async () => {
    const device = cpu();
    const vocab = new Vocab(Array.from('the time machine'));
    const net = new RNNModelScratch(vocab.length, 4, device, getParams, initRnnState, rnn);
    await expectReject(predict('Time', 3, net, vocab, device, { strict: true }), DataError, 'the prefix has characters the vocabulary lacks: "T"');
    const chars = new CharVocab(Array.from('abc'));
    const net2 = new RNNModelScratch(chars.length, 4, device, getParams, initRnnState, rnn);
    await expectReject(predict('abz', 3, net2, chars, device), DataError, "'z' is not among the 3 characters");
  });
});

// ------------------------------------------------------------------------------------------------ checkpoints

describe('checkpoints', () => {
  const write = async (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    return file;
  };

  it('truncated: CheckpointError from the API, one line from generate', async () => {
    const bytes = await readFile(ckpt);
    const file = await write('truncated.safetensors', bytes.subarray(0, bytes.length - 100));
    await expectReject(loadCheckpoint(file), CheckpointError, 'data is truncated');
    await expectCliError(['generate', '--checkpoint', file, '--prefix', 'time', '--device', 'cpu'], `checkpoint "${file}": `);
  });

  it('cut inside the header', async () => {
    const bytes = await readFile(ckpt);
    const file = await write('cut-header.safetensors', bytes.subarray(0, 40));
    await expectReject(loadCheckpoint(file), CheckpointError, 'exceeds the file');
  });

  it('corrupted header (garbage bytes in the JSON)', async () => {
    const bytes = new Uint8Array(await readFile(ckpt));
    bytes.fill(0x7b, 8, 24); // '{' x 16: no longer JSON
    const file = await write('corrupt.safetensors', bytes);
    await expectReject(loadCheckpoint(file), CheckpointError, 'header is not valid JSON');
    await expectCliError(['generate', '--checkpoint', file, '--prefix', 'time', '--device', 'cpu'], 'header is not valid JSON');
  });

  it('oversized header length: refused from the 8-byte length field alone, nothing allocated for it', async () => {
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 62n, true);
    const file = await write('huge-header.safetensors', bytes);
    await expectReject(loadCheckpoint(file), CheckpointError, `safetensors header length ${2n ** 62n} exceeds the limit`);
    expectThrow(() => decodeSafetensors(bytes), CheckpointError, 'exceeds the limit');
    // A 3 GiB file (sparse) is refused from its first 8 bytes; reading it whole would fail on its size instead.
    await truncate(file, 3 * 2 ** 30);
    await expectReject(loadCheckpoint(file), CheckpointError, `checkpoint "${file}": safetensors header length ${2n ** 62n} exceeds the limit`);
  });

  it('not a checkpoint at all (a text file)', async () => {
    const file = await write('notes.safetensors', new TextEncoder().encode('these are my notes, not weights\n'));
    await expectCliError(['generate', '--checkpoint', file, '--prefix', 'time', '--device', 'cpu'], `checkpoint "${file}": `);
  });

  it('a safetensors file that is no tinytape checkpoint (no metadata)', async () => {
    const file = await write('plain.safetensors', encodeSafetensors({ w: { dtype: 'float32', shape: [1], data: new Float32Array([1]) } }));
    await expectReject(loadCheckpoint(file), CheckpointError, 'not a tinytape checkpoint');
  });

  it('wrong model: loading a scratch RNN checkpoint into a GRU', async () => {
    const loaded = await loadCheckpoint(ckpt);
    const gru = createModel({ model: 'gru', vocabSize: 28, numHiddens: 8, numLayers: 1, bidirectional: false }, cpu());
    expectThrow(() => loadParameters(gru, loaded.tensors, ckpt), CheckpointError, 'missing parameter "rnn.weight_ih_l0"');
  });

  it('wrong model: parameters of the wrong shape', async () => {
    const loaded = await loadCheckpoint(ckpt);
    const wider = createModel({ model: 'scratch', cell: 'rnn', vocabSize: 28, numHiddens: 16 }, cpu());
    expectThrow(() => loadParameters(wider, loaded.tensors, ckpt), CheckpointError, 'parameter "W_xh" has shape [28,8] but the model needs [28,16]');
  });

  it('wrong model: a configuration no model kind matches', async () => {
    const loaded = await loadCheckpoint(ckpt);
    const bad = { ...loaded, info: { ...loaded.info, config: { model: 'transformer' } } };
    expectThrow(() => modelFromCheckpoint(bad, cpu(), ckpt), CheckpointError, 'cannot rebuild its model');
  });
});

// ------------------------------------------------------------------------------------------------ resume

describe('--resume that does not fit the command', () => {
  it('another --hidden', async () => {
    await expectCliError(['train', ...tiny({ hidden: '16' }), '--epochs', '3', '--resume', ckpt],
      `--resume ${ckpt}: the checkpoint was trained with --hidden 8, but this command says --hidden 16`);
  });

  it('another model, optimizer and iterator at once', async () => {
    await expectCliError(['train', ...TINY, '--model', 'gru', '--optimizer', 'adam', '--random-iter', '--epochs', '3', '--resume', ckpt],
      'the checkpoint was trained with --model scratch --optimizer sgd no --random-iter, but this command says --model gru --optimizer adam --random-iter');
  });

  it('another text', async () => {
    const file = path.join(dir, 'other.txt');
    await writeFile(file, 'a tale of two cities '.repeat(200));
    await expectCliError(['train', ...TINY, '--data', file, '--epochs', '3', '--resume', ckpt], 'the checkpoint was trained with --dataset timemachine');
  });

  it('the same --data file, edited since the checkpoint', async () => {
    const file = path.join(dir, 'edited.txt');
    const text = 'the time machine by h g wells '.repeat(40);
    await writeFile(file, text);
    const saved = path.join(dir, 'edited.safetensors');
    expect((await run('train', ...TINY, '--data', file, '--epochs', '1', '--save', saved)).code).toBe(0);
    await writeFile(file, text.replace('wells', 'swell')); // same letters, so the same vocabulary
    await expectCliError(['train', ...TINY, '--data', file, '--epochs', '3', '--resume', saved], 'the training text changed since the checkpoint (its tokens differ)');
  });

  it('--epochs not beyond the checkpoint', async () => {
    await expectCliError(['train', ...TINY, '--epochs', '1', '--resume', ckpt], 'the checkpoint is at epoch 1 already; give --epochs larger than 1');
  });

  it('a checkpoint without training state', async () => {
    const loaded = await loadCheckpoint(ckpt);
    const file = path.join(dir, 'no-state.safetensors');
    const net = modelFromCheckpoint(loaded, cpu());
    await saveCheckpoint(file, net, { ...loaded.info, extra: undefined });
    await expectCliError(['train', ...TINY, '--epochs', '3', '--resume', file], 'holds no training state to resume');
  });

  it('a missing checkpoint', async () => {
    await expectCliError(['train', ...TINY, '--epochs', '3', '--resume', path.join(dir, 'nope.safetensors')], 'no such file');
  });
});

// ------------------------------------------------------------------------------------------------ WebGPU

describe('WebGPU faults', () => {
  let device: Device | null = null;
  beforeAll(async () => {
    device = await tryGpu();
    if (device.kind !== 'webgpu') {
      device = null;
      if (process.env.CI) throw new Error('no WebGPU adapter found (CI requires one: install Mesa lavapipe)');
      console.warn('!! no WebGPU adapter: the WebGPU fault cases are skipped on this machine');
    }
  });

  it('out of memory: a buffer over the adapter limit is a DeviceError naming the byte size', (ctx) => {
    if (device === null) return ctx.skip();
    const limits = (device.backend as unknown as WebGPUBackend).device.limits;
    const elements = Math.floor(Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize) / 4) + 1;
    expectThrow(() => zeros([elements], { device: device! }), DeviceError, new RegExp(`webgpu: out of memory: cannot allocate \\d+ bytes \\(.*\\) for a tensor of ${elements} elements`));
    // The device is still usable afterwards.
    expect(add(zeros([2], { device: device! }), 1).size).toBe(2);
  });

  it('mixing a WebGPU tensor with a CPU tensor', (ctx) => {
    if (device === null) return ctx.skip();
    expectThrow(() => add(zeros([2], { device: device! }), zeros([2])), DeviceError, 'add: tensors are on different devices ([2] on webgpu, [2] on cpu)');
  });

  it('device lost: the next op and the next read are DeviceErrors with the reason', async (ctx) => {
    if (device === null) return ctx.skip();
    const backend = device.backend as unknown as WebGPUBackend;
    const t = tensor([1, 2, 3], { device });
    backend.device.destroy();
    await backend.lost;
    expectThrow(() => add(t, 1), DeviceError, 'WebGPU device lost: destroyed');
    await expectReject(t.toArray(), DeviceError, 'WebGPU device lost');
    await releaseDevices();
  });

  it('device lost during a CLI run: one line naming the last checkpoint, exit 2, that checkpoint intact', async (ctx) => {
    if (device === null) return ctx.skip();
    await releaseDevices();
    const gpu = await webgpu(); // the device the CLI's --device webgpu will share
    const file = path.join(dir, 'lost.safetensors');
    let lines = 0;
    let saved: Buffer | null = null;
    const err: string[] = [];
    const code = await main(['train', ...tiny({ device: 'webgpu' }), '--epochs', '50', '--pred-period', '1', '--json', '--save', file], {
      out: () => {
        // Epoch 2 is printed before it is saved: losing the device now leaves epoch 1's checkpoint the last.
        if (++lines === 2) {
          saved = readFileSync(file);
          (gpu.backend as unknown as WebGPUBackend).device.destroy();
        }
      },
      err: (l) => err.push(l),
      tty: false,
    });
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^tinytape: (WebGPU device lost: destroyed|webgpu: reading back \d+ bytes failed).*; the last good checkpoint, epoch 1, is /);
    expect(readFileSync(file)).toEqual(saved);
    expect((await loadCheckpoint(file)).info.epoch).toBe(1);
    await releaseDevices();
  });

  it('--device webgpu without an adapter: one line, exit 2; --device auto says it falls back to the CPU', async () => {
    await releaseDevices();
    const g = globalThis as { navigator?: unknown };
    const saved = Object.getOwnPropertyDescriptor(g, 'navigator');
    // A browser-like navigator.gpu whose requestAdapter finds nothing, as on a machine without a driver.
    Object.defineProperty(g, 'navigator', { value: { gpu: { requestAdapter: async () => null } }, configurable: true, writable: true });
    try {
      await expectReject(webgpu(), DeviceError, 'no WebGPU adapter found');
      await releaseDevices();
      await expectCliError(['train', ...tiny({ device: 'webgpu' }), '--epochs', '1'], 'webgpu: no WebGPU adapter found');
      const r = await run('train', ...tiny({ device: 'auto' }), '--epochs', '1');
      expect(r.code).toBe(0);
      expect(r.err).toEqual(['tinytape: no WebGPU adapter found; using the CPU device']);
    } finally {
      if (saved) Object.defineProperty(g, 'navigator', saved);
      else delete g.navigator;
      await releaseDevices();
    }
  });
});
