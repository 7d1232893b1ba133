import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataTimeMachine } from '@tinytape/data';
import { RNNModelScratch, getParams, initRnnState, rnn, train } from '@tinytape/rnn';
import { type Device, manualSeed } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../shared/data');
const devices = await testDevices();
afterAll(releaseTestDevices);

/** A short training run from a fixed seed: same weights, same batches on every device. */
async function curve(device: Device, useRandomIter: boolean): Promise<number[]> {
  manualSeed(123);
  const { trainIter, vocab } = await loadDataTimeMachine(8, 10, { dataDir, maxTokens: 1500, seed: 9, useRandomIter });
  const net = new RNNModelScratch(vocab.length, 24, device, getParams, initRnnState, rnn);
  const result = await train(net, trainIter, vocab, 1, 6, device, { log: () => {}, predPeriod: 1000, prefixes: [] });
  for (const p of net.params) p.dispose();
  return result.history.map((r) => r.perplexity);
}

describe.runIf(devices.length > 1)('the WebGPU device follows the CPU device', () => {
  it.each([false, true])('perplexity curve, random iterator: %s — every epoch within 1%', async (useRandomIter) => {
    const [cpuCurve, gpuCurve] = [await curve(devices[0]!, useRandomIter), await curve(devices[1]!, useRandomIter)];
    expect(cpuCurve[5]!).toBeLessThan(cpuCurve[0]!);
    cpuCurve.forEach((p, i) => expect(Math.abs(gpuCurve[i]! - p) / p).toBeLessThan(0.01));
  });
});

describe('device list', () => {
  it('has the CPU first, and WebGPU whenever CI runs', () => {
    expect(devices[0]!.kind).toBe('cpu');
    if (process.env.CI) expect(devices.map((d) => d.kind)).toEqual(['cpu', 'webgpu']);
  });
});
