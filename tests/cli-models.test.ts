import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDir, run, useTempDir } from './cli-harness.ts';
import { loadSafetensors } from '../packages/rnn/src/io/safetensors.ts';
import { loadCheckpoint } from '../packages/rnn/src/checkpoint.ts';
import { GRU_PARAM_NAMES } from '../packages/rnn/src/model/gru-scratch.ts';
import { LSTM_PARAM_NAMES } from '../packages/rnn/src/model/lstm-scratch.ts';

const tempDir = useTempDir('tinytape-cli-models-');

const TINY = ['--device', 'cpu', '--data-dir', dataDir, '--hidden', '8', '--epochs', '2', '--batch-size', '4', '--num-steps', '6', '--max-tokens', '400', '--json', '--pred-len', '5'];
const layerNames = (suffix: string) => ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((w) => `rnn.${w}${suffix}`);

describe('tinytape CLI with the concise models', () => {
  it.each([
    ['rnn', [], [...layerNames('_l0')], 8],
    ['gru', ['--layers', '2', '--optimizer', 'adam', '--lr', '0.01'], [...layerNames('_l0'), ...layerNames('_l1')], 24],
    ['lstm', ['--bidirectional'], [...layerNames('_l0'), ...layerNames('_l0_reverse')], 32],
  ] as const)('--model %s %j trains 2 epochs, saves PyTorch names, and generate continues from the checkpoint', async (model, extra, names, gateRows) => {
    const ckpt = path.join(tempDir(), `${model}.safetensors`);
    const r = await run('train', ...TINY, '--model', model, ...extra, '--save', ckpt);
    expect(r.err.filter((l) => l.includes('Error'))).toEqual([]);
    expect(r.code).toBe(0);
    const lines = r.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    const summary = lines[2]!;
    const saved = await loadSafetensors(ckpt);
    // With --optimizer adam the checkpoint also holds the moments for --resume (optimizer.adam.*).
    expect(Object.keys(saved.tensors).filter((k) => !k.startsWith('optimizer.'))).toEqual([...names, 'linear.weight', 'linear.bias']);
    expect(saved.tensors['rnn.weight_hh_l0']!.shape).toEqual([gateRows, 8]);
    const g = await run('generate', '--checkpoint', ckpt, '--prefix', 'time traveller', '--num', '5', '--device', 'cpu');
    expect(g.code).toBe(0);
    // Greedy generation from the saved weights matches the prediction the training run printed.
    expect(g.out[0]).toBe((summary.samples as Record<string, string>)['time traveller']);
  });

  it.each([
    ['scratch-gru', GRU_PARAM_NAMES, 'gru', 'scratch GRU'],
    ['scratch-lstm', LSTM_PARAM_NAMES, 'lstm', 'scratch LSTM'],
  ] as const)('--model %s trains chapter 9\'s from-scratch cell 2 epochs, saves its book names, and generate continues from it', async (model, names, cell, described) => {
    const ckpt = path.join(tempDir(), `${model}.safetensors`);
    const r = await run('train', ...TINY, '--model', model, '--save', ckpt);
    expect(r.code).toBe(0);
    expect(r.err.join('\n')).toContain(`training ${described} (8 hidden`);
    const lines = r.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[1]!.perplexity).toBeLessThan(lines[0]!.perplexity as number);
    const { tensors, info } = await loadCheckpoint(ckpt);
    // The book's per-gate parameter names (W_xz, ..., b_q), not the concise layers' PyTorch names.
    expect(Object.keys(tensors)).toEqual([...names]);
    expect(info.config).toMatchObject({ model: 'scratch', cell, numHiddens: 8 });
    const g = await run('generate', '--checkpoint', ckpt, '--prefix', 'time traveller', '--num', '5', '--device', 'cpu');
    expect(g.code).toBe(0);
    expect(g.out[0]).toBe((lines[2]!.samples as Record<string, string>)['time traveller']);
  });

  it('the scratch models are one unidirectional layer: --layers or --bidirectional with them is a one-line error', async () => {
    for (const model of ['scratch-gru', 'scratch-lstm']) {
      for (const flags of [['--layers', '2'], ['--bidirectional']]) {
        const r = await run('train', ...TINY, '--model', model, ...flags);
        expect(r.code).toBe(2);
        expect(r.err).toHaveLength(1);
        expect(r.err[0]).toContain(`--model ${model}: is one unidirectional layer`);
      }
    }
  });

  it('the scratch model is one unidirectional layer: --layers or --bidirectional with it is a one-line error', async () => {
    for (const flags of [['--layers', '2'], ['--bidirectional']]) {
      const r = await run('train', ...TINY, '--model', 'scratch', ...flags);
      expect(r.code).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toContain('--model scratch');
    }
  });

  it('--max-tokens cuts the Jay Chou lyrics too (characters; -1 takes them all)', async () => {
    const vocabOf = async (maxTokens: string) => {
      const r = await run('train', '--dataset', 'jaychou', '--device', 'cpu', '--data-dir', dataDir, '--hidden', '4', '--epochs', '1',
        '--batch-size', '2', '--num-steps', '5', '--max-tokens', maxTokens, '--json', '--pred-len', '2');
      expect(r.code).toBe(0);
      return Number(/vocab (\d+)/.exec(r.err.join('\n'))![1]);
    };
    const [small, book, all] = [await vocabOf('300'), await vocabOf('10000'), await vocabOf('-1')];
    expect(book).toBe(1027);
    expect(small).toBeLessThan(book);
    expect(all).toBeGreaterThan(book);
  });

  it('the scratch model trains with adam too', async () => {
    const r = await run('train', ...TINY, '--optimizer', 'adam', '--lr', '0.01');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[2]!)).toHaveProperty('perplexity');
  });
});
