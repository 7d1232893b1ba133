/*
 * The browser page (web/) trains in headless Chromium: through the URL contract, on WebGPU and on the
 * wasm CPU backend, with the perplexities of the same run in Node; stop and continue give the run an
 * uninterrupted one gives; the teaching panels fill. Fails, never skips, without Chromium or an adapter.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseDevices } from '@tinytape/tensor';
import {
  type Browser, type PageOutcome, type ServedPage, largestRelativeDifference, launchChromium, runPage, screenshot, servePage, trainInNode, waitForEnd,
} from './browser-harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A small configuration: the book's batches (32 x 35 of the first 10,000 characters), 32 hidden units. */
const SMALL = 'model=rnn&hidden=32&epochs=3&seed=0';
/** Perplexities of the same run on two devices, or in the page and in Node, agree to this (relative). */
const AGREE = 1e-4;

let served: ServedPage;
let browser: Browser;
const outcomes = new Map<string, PageOutcome>();

beforeAll(async () => {
  served = await servePage();
  browser = await launchChromium(true);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await releaseDevices();
});

/** Checks a finished run of `epochs` epochs and returns its summary. */
function expectDone(outcome: PageOutcome, epochs: number) {
  expect(outcome.error, 'the page showed an error').toBe('');
  expect(outcome.state).toBe('done');
  const result = outcome.result!;
  expect(result.perplexities).toHaveLength(epochs);
  expect(result.tokensPerSec).toHaveLength(epochs);
  for (const p of result.perplexities) expect(Number.isFinite(p) && p > 1).toBe(true);
  for (const t of result.tokensPerSec) expect(t).toBeGreaterThan(0);
  expect(result.sample.startsWith('time traveller')).toBe(true);
  return result;
}

describe('the page trains the concise RNN in headless Chromium', () => {
  let node: number[] = [];
  beforeAll(async () => {
    node = (await trainInNode(`?${SMALL}`)).map((r) => r.perplexity);
  }, 120_000);

  it('on WebGPU: perplexity falls and matches the same run in Node', async () => {
    const { page, outcome } = await runPage(browser, served, `?${SMALL}&device=webgpu&autostart=1`);
    const result = expectDone(outcome, 3);
    // Chromium must give an adapter here (--enable-unsafe-webgpu): no silent fallback to the CPU.
    expect(result.device, outcome.deviceLine).toBe('webgpu');
    expect(result.adapter).toMatch(/\S/);
    expect(outcome.deviceLine).toContain('WebGPU on');
    expect(result.perplexities[2]!).toBeLessThan(result.perplexities[0]!);
    expect(largestRelativeDifference(result.perplexities, node)).toBeLessThan(AGREE);
    outcomes.set('webgpu', outcome);
    console.log(`page on ${result.adapter}: perplexities ${result.perplexities.map((p) => p.toFixed(6)).join(', ')}; Node cpu: ${node.map((p) => p.toFixed(6)).join(', ')}`);
    await screenshot(page, 'browser-webgpu.png');
    await page.close();
  }, 240_000);

  it('on the wasm CPU backend (two threads): the same perplexities as WebGPU and Node', async () => {
    const { page, outcome } = await runPage(browser, served, `?${SMALL}&device=cpu&autostart=1`);
    const result = expectDone(outcome, 3);
    expect(result.device).toBe('cpu');
    expect(result.adapter).toBeNull();
    // Served with COOP/COEP, the page is cross-origin isolated: the worker may use its helper thread.
    expect(outcome.deviceLine).toContain('2 threads');
    expect(result.perplexities[2]!).toBeLessThan(result.perplexities[0]!);
    expect(largestRelativeDifference(result.perplexities, node)).toBeLessThan(AGREE);
    const webgpu = outcomes.get('webgpu');
    expect(webgpu, 'the WebGPU run').toBeDefined();
    expect(largestRelativeDifference(result.perplexities, webgpu!.result!.perplexities)).toBeLessThan(AGREE);
    await screenshot(page, 'browser-cpu.png');
    await page.close();
  }, 240_000);
});

describe('the URL contract reaches every model kind', () => {
  it.each([
    ['the scratch RNN', 'model=scratch&hidden=16&epochs=2'],
    ['the scratch GRU', 'model=scratch-gru&hidden=8&epochs=1'],
    ['a 2-layer bidirectional LSTM, random iterator, lr 2', 'model=lstm&hidden=8&layers=2&bidirectional=1&epochs=1&iterator=random&lr=2&seed=7'],
  ])('%s: the page trains what Node trains', async (_name, query) => {
    const { page, outcome } = await runPage(browser, served, `?${query}&device=cpu&autostart=1`);
    const node = await trainInNode(`?${query}`);
    const result = expectDone(outcome, node.length);
    expect(largestRelativeDifference(result.perplexities, node.map((r) => r.perplexity))).toBeLessThan(AGREE);
    await page.close();
  }, 120_000);
});

describe('stop and continue', () => {
  it('a run stopped and continued ends as the uninterrupted run does', async () => {
    const query = 'model=rnn&hidden=32&epochs=30&device=cpu';
    const page = await browser.context.newPage();
    await page.goto(`${served.url}?${query}&autostart=1`);
    await page.waitForFunction(() => /epoch \d+\//.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('progress').textContent), undefined, { timeout: 60_000 });
    await page.click('#stop');
    const stopped = await waitForEnd(page, 60_000, ['stopped', 'done', 'error']);
    expect(stopped.state).toBe('stopped');
    expect(await page.locator('#continue').isEnabled()).toBe(true);
    await page.click('#continue');
    const result = expectDone(await waitForEnd(page), 30);
    const node = await trainInNode(`?${query}`);
    expect(largestRelativeDifference(result.perplexities, node.map((r) => r.perplexity))).toBeLessThan(AGREE);
    // Every 10 epochs the page shows the continuation of "time traveller", then once at the end.
    expect(await page.locator('#samples li').count()).toBe(4);
    await page.close();
  }, 180_000);
});

describe('the teaching panels', () => {
  it('show the tape of one step with shapes, and the kernels of one epoch', async () => {
    const { page, outcome } = await runPage(browser, served, '?model=scratch&hidden=16&epochs=2&device=cpu&autostart=1');
    expectDone(outcome, 2);
    const tape = (await page.locator('#tape').textContent()) ?? '';
    // The scratch RNN's step, d2l §8.5: H = tanh(X W_xh + H W_hh + b_h), named parameters and shapes.
    expect(tape).toMatch(/matmul\s+\[32,28\] #\d+, \[28,16\] W_xh\s+->\s+\[32,16\]/);
    expect(tape).toMatch(/tanh\s+\[32,16\]/);
    expect(tape).toMatch(/crossEntropy\s+\[1120,28\] #\d+, \[1120\] #\d+\s+->\s+\[\]/);
    const profile = (await page.locator('#profile').textContent()) ?? '';
    expect(profile).toContain('Kernels of epoch 2');
    expect(profile).toMatch(/matmul \w+\+?=? ?\[/);
    expect(profile).toContain('all kernels');
    await page.close();
  }, 120_000);
});

describe('the page\'s sources', () => {
  it('type-check against the DOM\'s types (web/tsconfig.json)', () => {
    const configFile = path.join(root, 'web/tsconfig.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
    expect(parsed).toBeDefined();
    const program = ts.createProgram(parsed!.fileNames, parsed!.options);
    // Only the page's own files: the packages are checked by the workspace's tsconfig (without the DOM).
    const webDir = path.join(root, 'web') + path.sep;
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || path.resolve(d.file.fileName).startsWith(webDir))
      .map((d) => `${d.file ? path.relative(root, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
    expect(parsed!.fileNames.some((f) => f.endsWith('web/src/main.ts'))).toBe(true);
  }, 120_000);
});
