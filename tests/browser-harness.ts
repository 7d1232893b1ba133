/*
 * What the browser tests share: the page built into a temporary folder and served as `pnpm web` serves
 * it, headless Chromium (Debian's, driven by playwright-core), and a way to run the page through its URL
 * contract and read the result. A missing Chromium or WebGPU adapter fails the tests: they never skip.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { loadDataTimeMachine } from '@tinytape/data';
import { type EpochRecord, createModel, train } from '@tinytape/rnn';
import { cpu, manualSeed } from '@tinytape/tensor';
import { buildPage, PAGE_FILES } from '../web/scripts/build.mjs';
import type { Browser } from '../web/scripts/chromium.mjs';
import { type WebServer, startWebServer } from '../web/server/static-server.ts';
import { type RunConfig, modelSpec, parseUrl } from '../web/src/config.ts';
import type { RunSummary } from '../web/src/protocol.ts';
import { dataDir } from './cli-harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the browser tests leave files for a person to look at (screenshots); git-ignored. */
export const OUTPUT_DIR = path.join(here, 'output');

export { CHROMIUM, chromiumArgs, launchChromium, type Browser } from '../web/scripts/chromium.mjs';

/** The page built into a temporary folder and served on 127.0.0.1 as `pnpm web` serves it. */
export interface ServedPage extends WebServer {
  pageDir: string;
}

/**
 * Builds the page and serves it with The Time Machine from `books` (default: the tests' data folder;
 * a folder without the file gives the page's missing-data path).
 */
export async function servePage(books = dataDir): Promise<ServedPage> {
  const pageDir = await buildPage(await mkdtemp(path.join(tmpdir(), 'tinytape-page-')));
  const server = await startWebServer({
    pageDir,
    pageFiles: PAGE_FILES,
    dataFiles: { '/data/timemachine.txt': path.join(books, 'timemachine.txt') },
    port: 0,
  });
  return {
    ...server,
    pageDir,
    async close() {
      await server.close();
      await rm(pageDir, { recursive: true, force: true });
    },
  };
}

/** How a page's run ended: the URL contract's state, summary and error message. */
export interface PageOutcome {
  state: string;
  result: RunSummary | null;
  error: string;
  deviceLine: string;
}

/** Waits until the page's state is one of `states` (default: a finished run), then reads the outcome. */
export async function waitForEnd(page: Page, timeoutMs = 240_000, states = ['done', 'error']): Promise<PageOutcome> {
  const selector = states.map((s) => `body[data-state="${s}"]`).join(', ');
  await page.waitForSelector(selector, { timeout: timeoutMs, state: 'attached' });
  const state = (await page.locator('body').getAttribute('data-state')) ?? '';
  const resultText = (await page.locator('#result').textContent()) ?? '';
  return {
    state,
    result: resultText === '' ? null : (JSON.parse(resultText) as RunSummary),
    error: (await page.locator('#error').textContent()) ?? '',
    deviceLine: (await page.locator('#device-line').textContent()) ?? '',
  };
}

/** Opens `query` (the URL contract, e.g. `?model=rnn&autostart=1`) on the served page and waits for the run's end. */
export async function runPage(browser: Browser, served: ServedPage, query: string): Promise<{ page: Page; outcome: PageOutcome }> {
  const page = await browser.context.newPage();
  // Errors inside the page show up in the test's output, not just as a timeout.
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${served.url}${query}`);
  return { page, outcome: await waitForEnd(page) };
}

/** Saves a screenshot of the whole page into {@link OUTPUT_DIR} and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The run a page URL describes, trained in Node on the CPU with the library's API in the page's order
 * (seed, data, model, `train`): what the page's perplexities are compared with.
 */
export async function trainInNode(query: string): Promise<EpochRecord[]> {
  const config: RunConfig = parseUrl(query).config;
  manualSeed(config.seed);
  const random = config.iterator === 'random';
  const { trainIter, vocab } = await loadDataTimeMachine(config.batchSize, config.numSteps, { maxTokens: config.maxTokens, seed: config.seed, useRandomIter: random, dataDir });
  const device = cpu();
  const net = createModel(modelSpec(config, vocab.length), device);
  const result = await train(net, trainIter, vocab, config.lr, config.epochs, device, { useRandomIter: random, clip: config.clip, log: () => {} });
  return result.history;
}

/** The largest relative difference between two equally long series. */
export function largestRelativeDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`series of ${a.length} and ${b.length} values`);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.abs(b[i]!)));
}

/** Waits until the element `selector` contains `fragment`, and returns its whole text. */
export async function waitForText(page: Page, selector: string, fragment: string, timeoutMs = 60_000): Promise<string> {
  await page.locator(selector, { hasText: fragment }).waitFor({ state: 'attached', timeout: timeoutMs });
  return (await page.locator(selector).textContent()) ?? '';
}
