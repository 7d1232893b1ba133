/*
 * Checkpoints between the page and Node: a model trained in headless Chromium and downloaded as
 * safetensors is read by the Node API and by `tinytape generate`, which continue a prefix exactly as
 * the page does (greedy and at a temperature); the page loads the file back and generates the same.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, modelFromCheckpoint, predict, vocabFromCheckpoint } from '@tinytape/rnn';
import { cpu, releaseDevices } from '@tinytape/tensor';
import { type Browser, type ServedPage, launchChromium, runPage, servePage, waitForText } from './browser-harness.ts';
import { run, useTempDir } from './cli-harness.ts';

const QUERY = '?model=gru&hidden=24&epochs=2&seed=3&device=cpu&autostart=1';
const PREFIX = 'time traveller';

let served: ServedPage;
let browser: Browser;
let page: Page;
const dir = useTempDir('tinytape-browser-checkpoint-');
/** The checkpoint the page offered, saved where Node can read it. */
let file = '';

beforeAll(async () => {
  served = await servePage();
  browser = await launchChromium(true);
  const ran = await runPage(browser, served, QUERY);
  page = ran.page;
  expect(ran.outcome.state, ran.outcome.error).toBe('done');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await releaseDevices();
});

/** Fills the generation fields, presses Generate and returns the text the page shows. */
async function generateInPage(length: number, temperature: string, seed: number): Promise<string> {
  await page.fill('#prefix', PREFIX);
  await page.fill('#length', String(length));
  await page.fill('#temperature', temperature);
  await page.fill('#sample-seed', String(seed));
  const before = await page.locator('#generated').textContent();
  await page.click('#generate');
  await page.waitForFunction(
    (previous) => {
      const el = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('generated');
      return el.textContent !== previous && el.textContent !== 'generating…';
    },
    before,
    { timeout: 60_000 },
  );
  return (await page.locator('#generated').textContent()) ?? '';
}

describe('a checkpoint downloaded from the page', () => {
  it('is a tinytape checkpoint of the trained model (the CLI\'s format and metadata)', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    expect(download.suggestedFilename()).toBe('tinytape-gru-24-epoch2.safetensors');
    file = path.join(dir(), download.suggestedFilename());
    await download.saveAs(file);
    const ckpt = await loadCheckpoint(file);
    expect(ckpt.info).toMatchObject({ epoch: 2, vocabKind: 'vocab', config: { model: 'gru', numHiddens: 24, numLayers: 1, bidirectional: false, seed: 3 } });
    expect(ckpt.info.vocab).toHaveLength(28);
    expect(Object.keys(ckpt.tensors).sort()).toEqual(['linear.bias', 'linear.weight', 'rnn.bias_hh_l0', 'rnn.bias_ih_l0', 'rnn.weight_hh_l0', 'rnn.weight_ih_l0']);
    await waitForText(page, '#checkpoint-status', 'saved tinytape-gru-24-epoch2.safetensors');
  }, 60_000);

  it('generates in Node what the page generates, greedy and at a temperature', async () => {
    expect(file, 'the downloaded checkpoint').not.toBe('');
    const ckpt = await loadCheckpoint(file);
    const net = modelFromCheckpoint(ckpt, cpu());
    const vocab = vocabFromCheckpoint(ckpt.info);
    const greedy = await predict(PREFIX, 60, net, vocab, cpu());
    expect(await generateInPage(60, '', 0)).toBe(greedy);
    const sampled = await predict(PREFIX, 60, net, vocab, cpu(), { temperature: 0.7, seed: 11 });
    expect(sampled).not.toBe(greedy);
    expect(await generateInPage(60, '0.7', 11)).toBe(sampled);
  }, 60_000);

  it('is read by tinytape generate', async () => {
    const ckpt = await loadCheckpoint(file);
    const expected = await predict(PREFIX, 40, modelFromCheckpoint(ckpt, cpu()), vocabFromCheckpoint(ckpt.info), cpu());
    const r = await run('generate', '--checkpoint', file, '--prefix', PREFIX, '--num', '40', '--device', 'cpu');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([expected]);
  }, 60_000);

  it('loads back into the page, which then generates the same text', async () => {
    const ckpt = await loadCheckpoint(file);
    const expected = await predict(PREFIX, 50, modelFromCheckpoint(ckpt, cpu()), vocabFromCheckpoint(ckpt.info), cpu(), { temperature: 1.3, seed: 5 });
    // A fresh page, so the text can only come from the loaded file.
    await page.close();
    page = await browser.context.newPage();
    await page.goto(served.url);
    await page.setInputFiles('#checkpoint-file', { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: await readFile(file) });
    await waitForText(page, '#checkpoint-status', 'loaded model.safetensors: gru model, 24 hidden');
    expect(await generateInPage(50, '1.3', 5)).toBe(expected);
  }, 60_000);

  it('a file that is no checkpoint gets a message, not a blank', async () => {
    await page.setInputFiles('#checkpoint-file', { name: 'notes.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a safetensors file at all') });
    const message = await waitForText(page, '#checkpoint-status', 'notes.safetensors:');
    expect(message).toMatch(/notes\.safetensors: .*(header|safetensors)/);
    expect(await page.locator('#checkpoint-status').getAttribute('class')).toBe('error');
  }, 60_000);
});
