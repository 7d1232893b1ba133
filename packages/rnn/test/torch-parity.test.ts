// tinytape against PyTorch on identical weights: d2l's concise RNNModel (one-hot tokens, nn.RNN/GRU/LSTM,
// nn.Linear, mean cross-entropy) gives PyTorch's loss and every parameter's gradient to 1e-4 relative, on
// every device and along every recurrence path. The figures come from fixtures/torch-parity.json, written
// by scripts/torch-parity-fixture.py with PyTorch (tinytape's tests do not need PyTorch installed).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backward, noGrad } from '@tinytape/autograd';
import { type Device, crossEntropy, tensor } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { GRU, LSTM, RNN, type RecurrencePath, RNNModel, type RecurrentLayer } from '../src/index.ts';

interface TorchCase {
  cell: 'rnn' | 'gru' | 'lstm';
  layers: number;
  bidirectional: boolean;
  nonlinearity: 'tanh' | 'relu';
  X: number[];
  Y: number[];
  h0: number[];
  c0: number[] | null;
  params: Record<string, number[]>;
  loss: number;
  grads: Record<string, number[]>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(here, 'fixtures/torch-parity.json'), 'utf8')) as {
  vocab: number; batch: number; steps: number; hidden: number; cases: TorchCase[];
};
const { vocab, batch, steps, hidden } = fixture;

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

/** Largest |a − e| over the largest |e| of one tensor. */
function relativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale);
  return worst;
}

/** The model on `device` with the fixture's weights, its loss on the fixture's tokens, and every gradient. */
async function run(c: TorchCase, device: Device, recurrence: RecurrencePath): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const opts = { numLayers: c.layers, bidirectional: c.bidirectional, device, path: recurrence };
  const layer = (c.cell === 'rnn' ? new RNN(vocab, hidden, { ...opts, nonlinearity: c.nonlinearity }) : c.cell === 'gru' ? new GRU(vocab, hidden, opts) : new LSTM(vocab, hidden, opts)) as RecurrentLayer<unknown>;
  const net = new RNNModel(layer, vocab);
  const named = net.namedParameters();
  expect(named.map(([n]) => n).sort()).toEqual(Object.keys(c.params).sort());
  noGrad(() => {
    for (const [name, p] of named) {
      const values = tensor(c.params[name]!, { shape: p.shape, device });
      p.assign_(values);
      values.dispose();
    }
  });
  const stateShape = [c.layers * (c.bidirectional ? 2 : 1), batch, hidden];
  const state = [tensor(c.h0, { shape: stateShape, device }), ...(c.c0 ? [tensor(c.c0, { shape: stateShape, device })] : [])];
  const X = tensor(c.X, { shape: [batch, steps], dtype: 'int32', device });
  // d2l's labels: Yᵀ flattened, time-major like the model's output rows.
  const labels = Array.from({ length: steps * batch }, (_, r) => c.Y[(r % batch) * steps + Math.floor(r / batch)]!);
  const [logits] = net.forward(X, state);
  const loss = crossEntropy(logits, tensor(labels, { dtype: 'int32', device }));
  backward(loss);
  const grads: Record<string, Float32Array> = {};
  for (const [name, p] of named) grads[name] = (await p.grad!.toArray()) as Float32Array;
  const value = (await loss.toArray())[0]!;
  for (const [, p] of named) p.dispose();
  return { loss: value, grads };
}

const label = (c: TorchCase) => `${c.cell}${c.cell === 'rnn' ? ` ${c.nonlinearity}` : ''}, ${c.layers} layer(s)${c.bidirectional ? ', bidirectional' : ''}`;

describe.each(devices.map((d) => [d.kind, d] as const))('PyTorch parity on %s', (_kind, device) => {
  const paths: RecurrencePath[] = device.kind === 'reference' ? ['kernel', 'steps'] : ['kernel', 'sequence', 'steps'];
  it.each(fixture.cases.map((c) => [label(c), c] as const))('%s: loss and every gradient within 1e-4 on every path', async (_l, c) => {
    for (const recurrence of paths) {
      const ours = await run(c, device, recurrence);
      expect(Math.abs(ours.loss - c.loss) / Math.abs(c.loss), `${recurrence} loss`).toBeLessThan(1e-4);
      for (const [name, expected] of Object.entries(c.grads)) {
        expect(relativeError(ours.grads[name]!, expected), `${recurrence} ${name}`).toBeLessThan(1e-4);
      }
    }
  });
});
