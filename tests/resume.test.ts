/*
 * Resuming a run (--resume and the API under it) and stopping one that diverged. The promise tested:
 * on the CPU device, a run interrupted at epoch k and resumed ends bit-for-bit where an uninterrupted
 * run ends, for SGD with either iterator and for Adam; a NaN stops the run without touching the last
 * good checkpoint.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataTimeMachine } from '@tinytape/data';
import { cpu, defaultGenerator, manualSeed } from '@tinytape/tensor';
import { dataDir, run, useTempDir } from './cli-harness.ts';
import {
  CheckpointError, OPTIMIZER_TENSOR_PREFIX, adam, createModel, loadCheckpoint, modelFromCheckpoint, parameters,
  readTrainingState, restoreTraining, saveCheckpoint, train, trainingCheckpoint,
} from '../packages/rnn/src/index.ts';

const tempDir = useTempDir('tinytape-resume-');

/** A run of a few hundred milliseconds: tiny model, a 600-token corpus. */
const TINY = ['--device', 'cpu', '--data-dir', dataDir, '--hidden', '12', '--batch-size', '4', '--num-steps', '8', '--max-tokens', '600', '--pred-len', '4', '--quiet'];

/** The parameters of a checkpoint as raw bytes, name by name (optimizer state left out). */
async function parameterBytes(file: string): Promise<Record<string, Uint8Array>> {
  const { tensors } = await loadCheckpoint(file);
  const out: Record<string, Uint8Array> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!name.startsWith(OPTIMIZER_TENSOR_PREFIX)) out[name] = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
  return out;
}

describe('--resume continues a run bit-for-bit on the CPU device', () => {
  it.each([
    ['sgd, sequential iterator', []],
    ['sgd, random iterator', ['--random-iter']],
    ['adam', ['--optimizer', 'adam', '--lr', '0.01']],
    ['adam, concise GRU, random iterator', ['--model', 'gru', '--optimizer', 'adam', '--lr', '0.01', '--random-iter']],
  ])('%s: 5 epochs straight = 2 epochs, then --resume to 5', async (_name, flags) => {
    const full = path.join(tempDir(), `full-${flags.join('')}.safetensors`);
    const part = path.join(tempDir(), `part-${flags.join('')}.safetensors`);
    const resumed = path.join(tempDir(), `resumed-${flags.join('')}.safetensors`);
    expect((await run('train', ...TINY, ...flags, '--epochs', '5', '--save', full)).code).toBe(0);
    expect((await run('train', ...TINY, ...flags, '--epochs', '2', '--save', part)).code).toBe(0);
    const r = await run('train', ...TINY, ...flags, '--epochs', '5', '--resume', part, '--save', resumed, '--csv', path.join(tempDir(), 'r.csv'));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);

    const want = await parameterBytes(full);
    const got = await parameterBytes(resumed);
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const name of Object.keys(want)) expect(got[name], name).toEqual(want[name]);
    // Adam's moments and step count, the data generator and the perplexity history continue too.
    const a = await loadCheckpoint(full);
    const b = await loadCheckpoint(resumed);
    const sa = readTrainingState(a.info)!;
    const sb = readTrainingState(b.info)!;
    expect(sb.epoch).toBe(5);
    expect(sb.optimizer).toEqual(sa.optimizer);
    expect(sb.dataRng).toBe(sa.dataRng);
    expect(sb.history.map((h) => [h.epoch, h.perplexity])).toEqual(sa.history.map((h) => [h.epoch, h.perplexity]));
    for (const [name, t] of Object.entries(a.tensors)) expect(b.tensors[name]!.data, name).toEqual(t.data);
    // The CSV covers the whole run, not only the resumed epochs.
    expect((await readFile(path.join(tempDir(), 'r.csv'), 'utf8')).trim().split('\n').map((l) => l.split(',')[0])).toEqual(['epoch', '1', '2', '3', '4', '5']);
  });

  it('Adam checkpoints keep the moments as optimizer.* tensors, which loading a model ignores', async () => {
    const file = path.join(tempDir(), 'adam.safetensors');
    expect((await run('train', ...TINY, '--optimizer', 'adam', '--epochs', '1', '--save', file)).code).toBe(0);
    const ckpt = await loadCheckpoint(file);
    const names = Object.keys(ckpt.tensors);
    expect(names.filter((n) => n.startsWith('optimizer.'))).toEqual(
      ['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q'].flatMap((p) => [`optimizer.adam.exp_avg.${p}`, `optimizer.adam.exp_avg_sq.${p}`]),
    );
    const net = modelFromCheckpoint(ckpt, cpu());
    expect(net.namedParameters().map(([n]) => n)).toEqual(['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q']);
    expect(readTrainingState(ckpt.info)!.optimizer).toEqual({ kind: 'adam', steps: 18 });
  });

  it('the API: trainingCheckpoint + restoreTraining + train({ startEpoch, history }) equal an uninterrupted train()', async () => {
    const device = cpu();
    const setup = async () => {
      manualSeed(3);
      const { trainIter, vocab } = await loadDataTimeMachine(4, 8, { dataDir, maxTokens: 600, seed: 3, useRandomIter: true });
      const net = createModel({ model: 'lstm', vocabSize: vocab.length, numHiddens: 6, numLayers: 1, bidirectional: false }, device);
      const opt = adam(parameters(net), 0.02);
      return { trainIter, vocab, net, opt };
    };
    const opts = { useRandomIter: true, log: () => {}, prefixes: [] };
    const straight = await setup();
    await train(straight.net, straight.trainIter, straight.vocab, 0.02, 4, device, { ...opts, updater: straight.opt });

    const first = await setup();
    const history: { epoch: number; perplexity: number; tokensPerSec: number }[] = [];
    await train(first.net, first.trainIter, first.vocab, 0.02, 2, device, { ...opts, updater: first.opt, onEpoch: (r) => void history.push(r) });
    const file = path.join(tempDir(), 'api.safetensors');
    const { extra, optimizerTensors } = await trainingCheckpoint(first.net, 2, history, { adam: first.opt, dataRng: first.trainIter.rng });
    await saveCheckpoint(file, first.net, { config: first.net.config(), vocab: [...first.vocab.idxToToken], vocabKind: 'vocab', epoch: 2, extra }, { optimizerTensors });
    // Disturb the default generator: restoring must put it back.
    defaultGenerator().nextUint32();

    const second = await setup();
    const state = restoreTraining(await loadCheckpoint(file), second.net, { adam: second.opt, dataRng: second.trainIter.rng });
    const result = await train(second.net, second.trainIter, second.vocab, 0.02, 4, device, {
      ...opts, updater: second.opt, startEpoch: state.epoch, history: state.history,
    });
    expect(result.history.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    expect(second.opt.steps).toBe(straight.opt.steps);
    for (const [i, p] of parameters(second.net).entries()) {
      expect(await p.toArray()).toEqual(await parameters(straight.net)[i]!.toArray());
    }
  });

  it('restoreTraining refuses a checkpoint without training state or with another optimizer, before changing the model', async () => {
    const device = cpu();
    const { trainIter, vocab } = await loadDataTimeMachine(4, 8, { dataDir, maxTokens: 600, seed: 0 });
    const net = createModel({ model: 'scratch', cell: 'rnn', vocabSize: vocab.length, numHiddens: 4 }, device);
    const plain = path.join(tempDir(), 'plain.safetensors');
    await saveCheckpoint(plain, net, { config: net.config(), vocab: [...vocab.idxToToken], vocabKind: 'vocab', epoch: 0 });
    expect(() => restoreTraining({ tensors: {}, info: { config: {}, vocab: [], vocabKind: 'vocab', epoch: 0 } }, net, {})).toThrow(CheckpointError);
    await loadCheckpoint(plain).then((c) => expect(() => restoreTraining(c, net, {})).toThrow(/holds no training state/));

    const sgdState = await trainingCheckpoint(net, 1, [], { dataRng: trainIter.rng });
    const withState = path.join(tempDir(), 'sgd-state.safetensors');
    await saveCheckpoint(withState, net, { config: net.config(), vocab: [...vocab.idxToToken], vocabKind: 'vocab', epoch: 1, extra: sgdState.extra });
    const before = await parameters(net)[0]!.toArray();
    const other = createModel({ model: 'scratch', cell: 'rnn', vocabSize: vocab.length, numHiddens: 4 }, device);
    const ckpt = await loadCheckpoint(withState);
    expect(() => restoreTraining(ckpt, other, { adam: adam(parameters(other), 0.1), dataRng: trainIter.rng })).toThrow(/trained with sgd, not adam/);
    expect(await parameters(net)[0]!.toArray()).toEqual(before);
  });
});

describe('a diverging run stops and keeps the last good checkpoint', () => {
  it('huge --lr: one line naming epoch and batch, exit status 3, the checkpoint of epoch 2 byte-for-byte intact', async () => {
    const ckpt = path.join(tempDir(), 'good.safetensors');
    expect((await run('train', ...TINY, '--epochs', '2', '--save', ckpt)).code).toBe(0);
    const good = await readFile(ckpt);
    // An lr near float32's largest value overflows the parameters within a few batches.
    const r = await run('train', ...TINY, '--epochs', '6', '--pred-period', '1', '--lr', '3e38', '--clip', '1e38', '--resume', ckpt, '--save', ckpt);
    expect(r.code).toBe(3);
    // Two notes about the changed --lr and --clip, then the one error line.
    expect(r.err.slice(0, 2)).toEqual([
      'tinytape: resuming with --lr 3e+38 (the checkpoint was trained with --lr 1)',
      'tinytape: resuming with --clip 1e+38 (the checkpoint was trained with --clip 1)',
    ]);
    expect(r.err).toHaveLength(3);
    expect(r.err[2]).toMatch(/^tinytape: training diverged: loss is (NaN|-?Infinity) at epoch 3, batch \d+;/);
    expect(r.err[2]).toContain(`the last good checkpoint, epoch 2, is ${ckpt}`);
    expect(r.err[2]).not.toMatch(/\n|\bat .*\.ts:\d+/);
    expect(await readFile(ckpt)).toEqual(good);
  });

  it('--allow-nan goes on to the last epoch', async () => {
    const r = await run('train', ...TINY, '--epochs', '3', '--lr', '3e38', '--clip', '1e38', '--allow-nan', '--json');
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(4);
  });

  it('a run that diverges before its first save says that nothing was saved', async () => {
    const ckpt = path.join(tempDir(), 'never.safetensors');
    const r = await run('train', ...TINY, '--epochs', '3', '--lr', '3e38', '--clip', '1e38', '--save', ckpt);
    expect(r.code).toBe(3);
    expect(r.err).toEqual([expect.stringContaining(`nothing was saved to ${ckpt} in this run`)]);
    await expect(readFile(ckpt)).rejects.toThrow(/ENOENT/);
  });
});
