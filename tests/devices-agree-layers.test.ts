import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataTimeMachine } from '@tinytape/data';
import { createModel, parameters, train } from '@tinytape/rnn';
import { type Device, manualSeed } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../shared/data');
const devices = await testDevices();
afterAll(releaseTestDevices);

/** A short SGD run of a concise model from a fixed seed: same weights, same batches on every device. */
async function curve(device: Device, model: 'rnn' | 'gru' | 'lstm'): Promise<number[]> {
  manualSeed(321);
  const { trainIter, vocab } = await loadDataTimeMachine(8, 10, { dataDir, maxTokens: 1000, seed: 9 });
  const net = createModel({ model, vocabSize: vocab.length, numHiddens: 16, numLayers: 1, bidirectional: false }, device);
  const result = await train(net, trainIter, vocab, 1, 4, device, { log: () => {}, predPeriod: 1000, prefixes: [] });
  for (const p of parameters(net)) p.dispose();
  return result.history.map((r) => r.perplexity);
}

describe.runIf(devices.length > 1)('the WebGPU device follows the CPU device for the concise layers', () => {
  it.each(['rnn', 'gru', 'lstm'] as const)('%s: perplexity curve, every epoch within 1%', async (model) => {
    const [cpuCurve, gpuCurve] = [await curve(devices[0]!, model), await curve(devices[1]!, model)];
    expect(cpuCurve[3]!).toBeLessThan(cpuCurve[0]!);
    cpuCurve.forEach((p, i) => expect(Math.abs(gpuCurve[i]! - p) / p).toBeLessThan(0.01));
  });
});
