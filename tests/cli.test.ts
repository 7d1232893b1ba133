import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../packages/rnn/src/cli/main.ts';
import { loadSafetensors } from '../packages/rnn/src/io/safetensors.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../shared/data');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tinytape-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
  return { code, out, err };
}

describe('tinytape CLI', () => {
  it('trains a tiny model, writes checkpoint, SVG, CSV and JSON lines; generate reads the checkpoint', async () => {
    const ckpt = path.join(dir, 'model.safetensors');
    const svg = path.join(dir, 'curve.svg');
    const csv = path.join(dir, 'curve.csv');
    const r = await run(
      'train', '--device', 'cpu', '--data-dir', dataDir, '--hidden', '16', '--epochs', '3', '--batch-size', '4',
      '--num-steps', '8', '--max-tokens', '600', '--save', ckpt, '--plot', svg, '--csv', csv, '--json', '--pred-len', '5',
    );
    expect(r.err.filter((l) => l.includes('Error'))).toEqual([]);
    expect(r.code).toBe(0);
    const lines = r.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ epoch: 1 });
    expect(typeof lines[0]!.perplexity).toBe('number');
    expect(typeof lines[0]!.tokensPerSec).toBe('number');
    const summary = lines[3]!;
    expect(summary.device).toBe('cpu');
    expect(Object.keys(summary.samples as object)).toEqual(['time traveller', 'traveller']);
    expect((await readFile(svg, 'utf8')).startsWith('<svg')).toBe(true);
    expect((await readFile(csv, 'utf8')).split('\n')[0]).toBe('epoch,perplexity,tokensPerSec');
    const saved = await loadSafetensors(ckpt);
    expect(Object.keys(saved.tensors)).toEqual(['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q']);
    expect(saved.tensors.W_xh!.shape).toEqual([28, 16]);
    const g = await run('generate', '--checkpoint', ckpt, '--prefix', 'time traveller', '--num', '7', '--device', 'cpu');
    expect(g.code).toBe(0);
    expect(g.out[0]!.startsWith('time traveller')).toBe(true);
    expect(Array.from(g.out[0]!)).toHaveLength('time traveller'.length + 7);
    // Greedy generation from the saved weights matches the prediction the training run printed.
    expect(`time traveller${g.out[0]!.slice(14, 19)}`).toBe((summary.samples as Record<string, string>)['time traveller']);
  });

  it.each([
    [['train', '--hidden', '-3'], '--hidden'],
    [['train', '--epochs', '0'], '--epochs'],
    [['train', '--lr', 'abc'], '--lr'],
    [['train', '--device', 'tpu'], '--device'],
    [['train', '--bogus'], 'bogus'],
    [['fly'], 'fly'],
    [['train', '--device', 'cpu', '--data', '/nonexistent/file.txt'], '/nonexistent/file.txt'],
    [['generate', '--checkpoint', '/nonexistent.safetensors', '--prefix', 'a'], '/nonexistent.safetensors'],
  ])('bad input %j: one line naming %s, exit status 2', async (argv, fragment) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(fragment);
    expect(r.err[0]).not.toMatch(/\n\s+at /);
  });

  it('a corrupt checkpoint is a clear error', async () => {
    const bad = path.join(dir, 'bad.safetensors');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 1, 2])));
    const r = await run('generate', '--checkpoint', bad, '--prefix', 'a', '--device', 'cpu');
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain(bad);
    expect((await stat(bad)).size).toBe(10);
  });
});
