/*
 * The packages as a user gets them: `pnpm pack` each one (its prepack builds dist/), install the four
 * tarballs with plain npm into an empty project, and from a plain .mjs file run by `node` — no
 * TypeScript loader, no workspace — train the scratch RNN for 2 epochs on the CPU, save a checkpoint and
 * load it back. The `tinytape` binary must run from that install too.
 *
 * npm fetches the packages' own dependencies (Dawn's `webgpu`) from the registry, or its cache.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDir } from './cli-harness.ts';

const exec = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['tensor', 'autograd', 'data', 'rnn'];

let dir = '';
let project = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tinytape-install-'));
  const packs = path.join(dir, 'packs');
  for (const name of PACKAGES) {
    await exec('pnpm', ['pack', '--pack-destination', packs], { cwd: path.join(root, 'packages', name) });
  }
  project = path.join(dir, 'project');
  await exec('mkdir', ['-p', project]);
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-tinytape', private: true, type: 'module' }));
  const tarballs = (await readdir(packs)).map((f) => path.join(packs, f));
  expect(tarballs).toHaveLength(4);
  await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: project });
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SCRIPT = `
import { cpu, manualSeed } from '@tinytape/tensor';
import { loadDataTimeMachine } from '@tinytape/data';
import { RNNModelScratch, getParams, initRnnState, rnn, train, saveCheckpoint, loadCheckpoint, modelFromCheckpoint } from '@tinytape/rnn';

manualSeed(1);
const device = cpu();
const { trainIter, vocab } = await loadDataTimeMachine(32, 35, { dataDir: process.argv[2], seed: 1 });
const net = new RNNModelScratch(vocab.length, 64, device, getParams, initRnnState, rnn);
const result = await train(net, trainIter, vocab, 1, 2, device, { log: () => {} });
const file = process.argv[3];
await saveCheckpoint(file, net, { config: net.config(), vocab: [...vocab.idxToToken], vocabKind: 'vocab', epoch: 2 });
const back = modelFromCheckpoint(await loadCheckpoint(file), device);
// The loaded model's parameters, bit for bit the trained ones.
let identical = 0;
const loaded = new Map(back.namedParameters());
for (const [name, p] of net.namedParameters()) {
  const a = await p.toArray();
  const b = await loaded.get(name).toArray();
  if (a.length === b.length && a.every((v, i) => Object.is(v, b[i]))) identical++;
}
console.log(JSON.stringify({ perplexities: result.history.map((r) => r.perplexity), params: loaded.size, identical, vocab: vocab.length }));
`;

describe('the packed packages, installed with npm', () => {
  it('import in plain Node, train the scratch RNN for 2 epochs on the CPU and save a checkpoint that loads', async () => {
    await writeFile(path.join(project, 'train.mjs'), SCRIPT);
    const ckpt = path.join(project, 'model.safetensors');
    const { stdout } = await exec(process.execPath, ['train.mjs', dataDir, ckpt], { cwd: project });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { perplexities: number[]; params: number; identical: number; vocab: number };
    expect(out.vocab).toBe(28);
    expect(out.params).toBe(5);
    expect(out.identical).toBe(5);
    expect(out.perplexities).toHaveLength(2);
    // A fresh model sits near the vocabulary size (28); two epochs of the book's run bring it down.
    expect(out.perplexities[0]!).toBeLessThan(28);
    expect(out.perplexities[1]!).toBeLessThan(out.perplexities[0]!);
  }, 300_000);

  it('resolve to the built ES modules, not to TypeScript sources', async () => {
    const probe = "for (const p of ['tensor','autograd','data','rnn']) console.log(import.meta.resolve('@tinytape/' + p));";
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', probe], { cwd: project });
    const urls = stdout.trim().split('\n');
    expect(urls).toHaveLength(4);
    for (const url of urls) expect(url).toMatch(/\/node_modules\/@tinytape\/\w+\/dist\/node\/index\.js$/);
  });

  it('give a working `tinytape` binary', async () => {
    const { stdout } = await exec('npx', ['--no-install', 'tinytape', 'train', '--help'], { cwd: project });
    // Once: the binary runs the CLI a single time.
    expect(stdout.match(/Usage: tinytape train/g)).toHaveLength(1);
    expect(stdout).toMatch(/--hidden <int>/);
  });
});
