import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataTimeMachine } from '@tinytape/data';
import { RNNModelScratch, getParams, initRnnState, rnn, sgdUpdater, trainEpoch } from '@tinytape/rnn';
import { crossEntropy, manualSeed, memory } from '@tinytape/tensor';
import type { WebGPUBackend } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../shared/data');
const devices = await testDevices();
afterAll(releaseTestDevices);
const gpu = devices.find((d) => d.kind === 'webgpu');

describe.runIf(gpu !== undefined)('a WebGPU training epoch', () => {
  it('reads back exactly once (the epoch loss), reuses a handful of pipelines, and frees what it allocates', async () => {
    const device = gpu!;
    const backend = device.backend as WebGPUBackend;
    manualSeed(1);
    const { trainIter, vocab } = await loadDataTimeMachine(4, 6, { dataDir, maxTokens: 400, seed: 2 });
    const net = new RNNModelScratch(vocab.length, 16, device, getParams, initRnnState, rnn);
    const updater = sgdUpdater(net.params, 1);
    await trainEpoch(net, trainIter, crossEntropy, updater, device, false); // warm-up: grads, pipelines
    const before = backend.stats();
    const memBefore = memory(device);
    const batches = [...trainIter].length;
    await trainEpoch(net, trainIter, crossEntropy, updater, device, false);
    const after = backend.stats();
    const memAfter = memory(device);
    expect(after.readbacks - before.readbacks).toBe(1);
    expect(after.pipelines).toBe(before.pipelines); // no new shaders for a second epoch
    expect(after.submits - before.submits).toBeLessThan(after.dispatches - before.dispatches);
    expect(memAfter.liveTensors).toBe(memBefore.liveTensors);
    expect(memAfter.devices.webgpu!.liveBuffers).toBe(memBefore.devices.webgpu!.liveBuffers);
    console.log(
      `[tinytape] per training step on WebGPU: ${((after.dispatches - before.dispatches) / batches).toFixed(0)} dispatches, ` +
        `${((after.submits - before.submits) / batches).toFixed(1)} submits, ${after.pipelines} pipelines in all`,
    );
  });
});
