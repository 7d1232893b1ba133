/*
 * The page's error paths in headless Chromium: no WebGPU adapter (the CPU, saying why), a bad text
 * file (the CLI's own message for the same file), a missing data file, a bad URL. Each ends in words
 * on the page, never a blank screen.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseDevices } from '@tinytape/tensor';
import { type Browser, type ServedPage, launchChromium, runPage, servePage, waitForEnd, waitForText } from './browser-harness.ts';
import { run, useTempDir } from './cli-harness.ts';

let served: ServedPage;
let browser: Browser;
const dir = useTempDir('tinytape-browser-errors-');

beforeAll(async () => {
  served = await servePage();
  browser = await launchChromium(true);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await releaseDevices();
});

describe('a browser without a WebGPU adapter', () => {
  // Chromium on Linux offers no adapter unless started with --enable-unsafe-webgpu.
  let plain: Browser;
  beforeAll(async () => {
    plain = await launchChromium(false);
  }, 60_000);
  afterAll(async () => {
    await plain?.close();
  });

  it('device=webgpu trains on the CPU and says why', async () => {
    const { page, outcome } = await runPage(plain, served, '?model=rnn&hidden=16&epochs=1&device=webgpu&autostart=1');
    expect(outcome.state, outcome.error).toBe('done');
    expect(outcome.result!.device).toBe('cpu');
    expect(outcome.result!.adapter).toBeNull();
    expect(outcome.deviceLine).toContain('Device: CPU (wasm, 2 threads)');
    expect(outcome.deviceLine).toContain('device=webgpu was asked for, but navigator.gpu gave no WebGPU adapter');
    await page.close();
  }, 120_000);

  it('device=auto does too', async () => {
    const { page, outcome } = await runPage(plain, served, '?model=rnn&hidden=16&epochs=1&autostart=1');
    expect(outcome.result!.device).toBe('cpu');
    expect(outcome.deviceLine).toMatch(/^Device: CPU .* — navigator\.gpu gave no WebGPU adapter/);
    await page.close();
  }, 120_000);
});

describe('device=auto with only a fallback adapter (SwiftShader here)', () => {
  it('passes over the software emulation and trains on the CPU, saying why', async () => {
    const { page, outcome } = await runPage(browser, served, '?model=rnn&hidden=16&epochs=1&device=auto&autostart=1');
    expect(outcome.state, outcome.error).toBe('done');
    expect(outcome.result!.device).toBe('cpu');
    expect(outcome.deviceLine).toContain("device=auto, and the browser's WebGPU adapter is a fallback adapter");
    await page.close();
  }, 120_000);
});

describe('a run that diverges', () => {
  it('ends in state "error" with the reason in the form\'s words', async () => {
    const { page, outcome } = await runPage(browser, served, '?model=rnn&hidden=16&epochs=2&lr=1e30&device=cpu&autostart=1');
    expect(outcome.state).toBe('error');
    // The batches' losses stay finite (large), but the epoch's perplexity, exp of their mean, does not:
    // train() raises NonFiniteLossError, which the page words as the form does.
    expect(outcome.error).toMatch(/^training diverged: the perplexity overflows \(mean loss [\d.e+]+\) at epoch 1, batch \d+; try a lower learning rate or clip θ$/);
    await page.close();
  }, 120_000);
});

/** A text file's contents for each way it can be unfit; the page and the CLI must say the same. */
const BAD_FILES: [string, string, Uint8Array][] = [
  ['empty', 'empty.txt', new Uint8Array(0)],
  ['binary (NUL bytes)', 'image.bin', new Uint8Array(4096).map((_, i) => (i % 7 === 3 ? 0 : 65 + (i % 26)))],
  ['not UTF-8 (Latin-1)', 'latin1.txt', Uint8Array.from([0x74, 0x69, 0x6d, 0x65, 0xe9, 0xff, 0xfe, 0x20, 0x61])],
];

/** The flags that make the CLI cut batches as the page does by default (d2l's 32 x 35 of 10,000 characters). */
const CLI_FLAGS = ['--device', 'cpu', '--hidden', '8', '--epochs', '1', '--batch-size', '32', '--num-steps', '35', '--max-tokens', '10000', '--quiet'];

/** The CLI's one error line for `--data file`, with the file named by its name alone, as the page names it. */
async function cliMessage(file: string): Promise<string> {
  const r = await run('train', ...CLI_FLAGS, '--data', file);
  expect(r.code).toBe(2);
  expect(r.err).toHaveLength(1);
  return r.err[0]!.replace(/^tinytape: /, '').replace(`--data ${file}`, path.basename(file)).replace(file, path.basename(file));
}

async function freshPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${served.url}?model=rnn&hidden=8&epochs=1&device=cpu`);
  return page;
}

describe('a bad text file gets the CLI\'s message', () => {
  it.each(BAD_FILES)('%s, picked', async (_what, name, bytes) => {
    const file = path.join(dir(), name);
    await writeFile(file, bytes);
    const expected = await cliMessage(file);
    const page = await freshPage();
    await page.setInputFiles('#text-file', file);
    const shown = await waitForText(page, '#text-status', name);
    expect(shown).toBe(expected);
    expect(await page.locator('#text-status').getAttribute('class')).toBe('error');
    await page.close();
  }, 60_000);

  it('binary, dropped on the page', async () => {
    const [, name, bytes] = BAD_FILES[1]!;
    const file = path.join(dir(), `dropped-${name}`);
    await writeFile(file, bytes);
    const expected = await cliMessage(file);
    const page = await freshPage();
    // A drop event carrying the file, as the browser fires it when a file is dropped on the page.
    const transfer = await page.evaluateHandle(
      ({ name: fileName, data }) => {
        const g = globalThis as unknown as { DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (parts: unknown[], name: string) => unknown };
        const dt = new g.DataTransfer();
        dt.items.add(new g.File([new Uint8Array(data)], fileName));
        return dt;
      },
      { name: path.basename(file), data: [...bytes] },
    );
    await page.dispatchEvent('body', 'drop', { dataTransfer: transfer });
    expect(await waitForText(page, '#text-status', path.basename(file))).toBe(expected);
    await page.close();
  }, 60_000);

  it.each([
    ['with no letters (another script)', 'chinese.txt', '时光机器'.repeat(500)],
    ['too short for one batch', 'short.txt', 'the time traveller for so it will be convenient to speak of him\n'.repeat(10)],
  ])('%s: accepted when picked, refused with the CLI\'s words when training starts', async (_what, name, text) => {
    const file = path.join(dir(), name);
    await writeFile(file, text);
    const expected = await cliMessage(file);
    const page = await freshPage();
    await page.setInputFiles('#text-file', file);
    await waitForText(page, '#text-status', `Using your file ${name}`);
    await page.click('#train');
    const outcome = await waitForEnd(page, 60_000);
    expect(outcome.state).toBe('error');
    expect(outcome.error).toBe(expected);
    expect(outcome.error).toMatch(/too short.*letters a-z/);
    await page.close();
  }, 60_000);

  it('a good text of the user\'s own trains', async () => {
    const file = path.join(dir(), 'wells.txt');
    await writeFile(file, 'The Time Traveller (for so it will be convenient to speak of him) was expounding a recondite matter to us.\n'.repeat(120));
    const page = await freshPage();
    await page.setInputFiles('#text-file', file);
    await waitForText(page, '#text-status', 'Using your file wells.txt');
    await page.click('#train');
    const outcome = await waitForEnd(page, 60_000);
    expect(outcome.state, outcome.error).toBe('done');
    expect(await page.locator('#text-line').textContent()).toMatch(/^Training on wells\.txt: 10,000 tokens, vocabulary of \d+\.$/);
    await page.close();
  }, 60_000);
});

describe('a missing data file', () => {
  it('is a message in the page, before and when training', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'tinytape-no-data-'));
    const bare = await servePage(empty);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${bare.url}?model=rnn&hidden=8&epochs=1&device=cpu&autostart=1`);
      const outcome = await waitForEnd(page, 60_000);
      expect(outcome.state).toBe('error');
      expect(outcome.error).toMatch(/^The Time Machine could not be loaded from this page's server: .*timemachine\.txt.*pnpm web/);
      const status = await waitForText(page, '#text-status', 'not available');
      expect(status).toContain('the server answered 404 for data/timemachine.txt');
      await page.close();
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a URL the page cannot use', () => {
  it.each([
    ['?hidden=abc&autostart=1', 'hidden: expected an integer from 1 to 8192, got "abc"'],
    ['?device=tpu', 'device: expected one of auto, webgpu, cpu, got "tpu"'],
    ['?model=scratch&layers=2', 'model scratch: is one unidirectional layer'],
    ['?hiden=32', 'unknown URL parameter "hiden"'],
  ])('%s: state "error" and the reason in #error', async (query, fragment) => {
    const page = await browser.context.newPage();
    await page.goto(`${served.url}${query}`);
    const outcome = await waitForEnd(page, 30_000);
    expect(outcome.state).toBe('error');
    expect(outcome.error).toContain(fragment);
    expect(outcome.result).toBeNull();
    await page.close();
  }, 60_000);
});
