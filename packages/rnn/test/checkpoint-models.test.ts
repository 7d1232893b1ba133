import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vocab } from '@tinytape/data';
import { cpu, manualSeed } from '@tinytape/tensor';
import {
  type ModelSpec, createModel, loadCheckpoint, modelFromCheckpoint, parameters, predict, saveCheckpoint,
} from '../src/index.ts';
import { CheckpointError } from '../src/io/errors.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tinytape-ckpt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vocab = new Vocab(Array.from('the time machine'));
const V = vocab.length;
const SPECS: ModelSpec[] = [
  { model: 'scratch', cell: 'rnn', vocabSize: V, numHiddens: 5 },
  { model: 'scratch', cell: 'gru', vocabSize: V, numHiddens: 5 },
  { model: 'scratch', cell: 'lstm', vocabSize: V, numHiddens: 5 },
  { model: 'rnn', vocabSize: V, numHiddens: 4, numLayers: 2, bidirectional: true, nonlinearity: 'relu' },
  { model: 'gru', vocabSize: V, numHiddens: 4, numLayers: 1, bidirectional: false },
  { model: 'lstm', vocabSize: V, numHiddens: 4, numLayers: 2, bidirectional: true },
];

async function save(spec: ModelSpec, name: string) {
  const net = createModel(spec, cpu());
  const file = path.join(dir, `${name}.safetensors`);
  await saveCheckpoint(file, net, { config: net.config(), vocab: [...vocab.idxToToken], vocabKind: 'vocab', epoch: 1 });
  return { net, file };
}

describe('checkpoints of every model kind', () => {
  it.each(SPECS.map((s, i) => [`${s.model}${'cell' in s ? `/${s.cell}` : ''}`, s, i] as const))(
    '%s: modelFromCheckpoint rebuilds the same model from the file alone',
    async (_name, spec, i) => {
      manualSeed(i);
      const { net, file } = await save(spec, `m${i}`);
      manualSeed(100 + i); // a different draw: the loaded weights must come from the file
      const loaded = modelFromCheckpoint(await loadCheckpoint(file), cpu(), file);
      expect(loaded.config()).toEqual(net.config());
      expect(loaded.namedParameters().map(([n]) => n)).toEqual(net.namedParameters().map(([n]) => n));
      const a = await Promise.all(parameters(net).map((p) => p.toArray()));
      const b = await Promise.all(parameters(loaded).map((p) => p.toArray()));
      expect(b).toEqual(a);
      const opts = { temperature: 1, seed: 3 };
      expect(await predict('time', 12, loaded, vocab, cpu(), opts)).toBe(await predict('time', 12, net, vocab, cpu(), opts));
    },
  );

  it("a concise model's file holds PyTorch's state_dict names, in state_dict order", async () => {
    const { file } = await save({ model: 'lstm', vocabSize: V, numHiddens: 3, numLayers: 1, bidirectional: true }, 'names');
    const { tensors } = await loadCheckpoint(file);
    const per = (suffix: string) => ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((w) => `rnn.${w}${suffix}`);
    expect(Object.keys(tensors)).toEqual([...per('_l0'), ...per('_l0_reverse'), 'linear.weight', 'linear.bias']);
    expect(tensors['rnn.weight_ih_l0']!.shape).toEqual([12, V]);
    expect(tensors['linear.weight']!.shape).toEqual([V, 6]);
  });

  it('an unknown model kind or a mismatched parameter is a CheckpointError naming the file', async () => {
    const { file } = await save({ model: 'gru', vocabSize: V, numHiddens: 3, numLayers: 1, bidirectional: false }, 'bad');
    const ckpt = await loadCheckpoint(file);
    const unknown = { ...ckpt, info: { ...ckpt.info, config: { ...ckpt.info.config, model: 'transformer' } } };
    expect(() => modelFromCheckpoint(unknown, cpu(), file)).toThrow(CheckpointError);
    expect(() => modelFromCheckpoint(unknown, cpu(), file)).toThrow(/unknown model "transformer"/);
    const wrong = { ...ckpt, info: { ...ckpt.info, config: { ...ckpt.info.config, model: 'lstm' } } };
    expect(() => modelFromCheckpoint(wrong, cpu(), file)).toThrow(/"rnn.weight_ih_l0" has shape \[9,\d+\] but the model needs \[12,\d+\]/);
  });
});
