// Tokens/s of the book's models in headless Chromium (the page of web/, through its URL contract) next
// to the same code in Node (the CLI): WebGPU and the wasm CPU backend in each, and in Node WebGPU on the
// same software adapter Chromium uses (SwiftShader, through Chromium's own Vulkan ICD) as well as on
// Mesa's lavapipe. So the browser's own cost per dispatch can be read off. Figures, not a test.
//   node scripts/browser-bench.mjs [--epochs N] [--only rnn|scratch] [--out results.json] [--screenshot docs/browser.png]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCli, bundleForNode, devBundleDir } from './build.mjs';
import { PAGE_FILES, buildPage } from '../web/scripts/build.mjs';
import { launchChromium } from '../web/scripts/chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({
  options: {
    epochs: { type: 'string', default: '8' },
    only: { type: 'string' },
    out: { type: 'string' },
    screenshot: { type: 'string' },
  },
});
const epochs = Number(flags.epochs);
if (!Number.isInteger(epochs) || epochs < 3) throw new Error('--epochs: at least 3 (epoch 1 warms up, the page profiles epoch 2)');

/** The two models of the figures: d2l §8.6's concise RNN (256 hidden) and §8.5's scratch RNN (512 hidden). */
const MODELS = [
  { name: 'concise RNN 256', key: 'rnn', query: 'model=rnn&hidden=256', cli: ['--model', 'rnn', '--hidden', '256'] },
  { name: 'scratch RNN 512', key: 'scratch', query: 'model=scratch&hidden=512', cli: ['--model', 'scratch', '--hidden', '512'] },
].filter((m) => flags.only === undefined || m.key === flags.only);

/** Chromium's own SwiftShader Vulkan driver, which Node's Dawn can load too (the same adapter as the page's). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

// The data folder as the CLI and `pnpm web` find it: $TINYTAPE_DATA_DIR, else the download cache.
const dataDir = process.env.TINYTAPE_DATA_DIR || path.join(homedir(), '.cache', 'tinytape');
if (!existsSync(path.join(dataDir, 'timemachine.txt'))) throw new Error(`${dataDir}/timemachine.txt is missing: set TINYTAPE_DATA_DIR or run pnpm train --epochs 1 once`);

/**
 * The steady rate of a run: the median and the best of epochs 3..N (epoch 1 compiles and warms up; the
 * page profiles epoch 2). On a machine shared with other work the best is the uncontended rate.
 */
function steady(tokensPerSec) {
  const rest = tokensPerSec.slice(2).sort((a, b) => a - b);
  return { median: rest[Math.floor((rest.length - 1) / 2)], best: rest[rest.length - 1] };
}

/** The 1-minute load average, to print beside the figures (other work on the machine slows the runs). */
function load() {
  return loadavg()[0].toFixed(2);
}

/** The same run in Node through the CLI, in a child process so each gets the Vulkan driver it names. */
async function nodeRun(model, device, icd) {
  const cli = await buildCli();
  const args = [cli, 'train', ...model.cli, '--epochs', String(epochs), '--device', device, '--json', '--pred-period', '1000000', '--data-dir', dataDir];
  const env = { ...process.env, ...(icd ? { VK_ICD_FILENAMES: icd } : {}) };
  const out = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let err = '';
    child.stdout.on('data', (c) => (text += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`tinytape train exited ${code}: ${err}`))));
  });
  const records = out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'epoch' in r);
  return records.map((r) => r.tokensPerSec);
}

const serverBundle = await bundleForNode(path.join(root, 'web/server/static-server.ts'), path.join(devBundleDir, 'web-static-server.mjs'));
const { startWebServer } = await import(serverBundle);
const pageDir = await buildPage(await mkdtemp(path.join(tmpdir(), 'tinytape-bench-page-')));
const server = await startWebServer({ pageDir, pageFiles: PAGE_FILES, dataFiles: { '/data/timemachine.txt': path.join(dataDir, 'timemachine.txt') }, port: 0 });
const browser = await launchChromium(true);

/** The run in the page: its summary (device, adapter, tokens/s per epoch). */
async function pageRun(query) {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}?${query}&autostart=1`);
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { state: 'attached', timeout: 1_800_000 });
  const error = await page.locator('#error').textContent();
  if (error) throw new Error(`the page failed: ${error}`);
  const summary = JSON.parse((await page.locator('#result').textContent()) ?? '');
  const threads = /(\d+) threads?/.exec((await page.locator('#device-line').textContent()) ?? '')?.[1] ?? '?';
  return { page, summary, threads };
}

const rows = [];
const note = (row) => {
  rows.push(row);
  console.error(`${row.model} | ${row.where} | ${row.device} | median ${Math.round(row.median)}, best ${Math.round(row.best)} tokens/s | load ${load()}`);
};
const loadBefore = load();
try {
  const chromiumVersion = browser.context.browser()?.version() ?? 'unknown';
  for (const model of MODELS) {
    for (const device of ['webgpu', 'cpu']) {
      const { page, summary, threads } = await pageRun(`${model.query}&epochs=${epochs}&device=${device}`);
      await page.close();
      note({ model: model.name, where: `Chromium ${chromiumVersion}`, device: device === 'webgpu' ? `WebGPU, ${summary.adapter}` : `wasm CPU, ${threads} threads`, ...steady(summary.tokensPerSec), perEpoch: summary.tokensPerSec });
    }
    const nodeRuns = [
      ['webgpu', SWIFTSHADER_ICD, 'WebGPU (Dawn), SwiftShader'],
      ['webgpu', LAVAPIPE_ICD, 'WebGPU (Dawn), lavapipe'],
      ['cpu', undefined, 'wasm CPU, 2 threads'],
    ];
    for (const [device, icd, label] of nodeRuns) {
      if (icd !== undefined && !existsSync(icd)) continue;
      const perEpoch = await nodeRun(model, device, icd);
      note({ model: model.name, where: `Node ${process.version}`, device: label, ...steady(perEpoch), perEpoch });
    }
  }
  if (flags.screenshot !== undefined) {
    // The figure for docs/browser.md: the concise RNN on WebGPU long enough to show three samples.
    const { page } = await pageRun('model=rnn&hidden=256&epochs=30&device=webgpu');
    await page.locator('#result').evaluate((el) => el.closest('details').setAttribute('open', ''));
    await page.screenshot({ path: path.resolve(flags.screenshot), fullPage: true });
    await page.close();
    console.error(`screenshot: ${flags.screenshot}`);
  }
} finally {
  await browser.close();
  await server.close();
  await rm(pageDir, { recursive: true, force: true });
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const date = new Date().toISOString().slice(0, 10);
const loadAfter = load();
console.log(`tokens/s over epochs 3-${epochs}; book batches (32 x 35 of the first 10,000 characters); ${date}, commit ${commit}; load average ${loadBefore} before, ${loadAfter} after\n`);
console.log('| model | runs in | device | tokens/s (median) | tokens/s (best) |');
console.log('| --- | --- | --- | ---: | ---: |');
const fmt = (v) => Math.round(v).toLocaleString('en');
for (const r of rows) console.log(`| ${r.model} | ${r.where} | ${r.device} | ${fmt(r.median)} | ${fmt(r.best)} |`);
if (flags.out !== undefined) writeFileSync(flags.out, JSON.stringify({ date, commit, epochs, loadBefore, loadAfter, rows }, null, 2));
