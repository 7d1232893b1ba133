import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDir, run, useTempDir } from './cli-harness.ts';
import { loadSafetensors } from '../packages/rnn/src/io/safetensors.ts';

const tempDir = useTempDir('tinytape-cli-');

describe('tinytape CLI', () => {
  it('--device reference trains on the plain-loop backend, agreeing with the fast CPU device', async () => {
    const flags = ['--data-dir', dataDir, '--hidden', '8', '--epochs', '2', '--batch-size', '4', '--num-steps', '8', '--max-tokens', '400', '--json', '--pred-len', '3'];
    const ref = await run('train', '--device', 'reference', ...flags);
    const fast = await run('train', '--device', 'cpu', ...flags);
    expect(ref.code).toBe(0);
    expect(fast.code).toBe(0);
    const summary = (r: typeof ref) => JSON.parse(r.out.at(-1)!) as { device: string; perplexity: number };
    expect(summary(ref).device).toBe('reference');
    expect(summary(fast).device).toBe('cpu');
    // Same seed, same batches: only float rounding (FMA, summation order) may differ.
    expect(Math.abs(summary(ref).perplexity / summary(fast).perplexity - 1)).toBeLessThan(1e-4);
  });

  it('trains a tiny model, writes checkpoint, SVG, CSV and JSON lines; generate reads the checkpoint', async () => {
    const ckpt = path.join(tempDir(), 'model.safetensors');
    const svg = path.join(tempDir(), 'curve.svg');
    const csv = path.join(tempDir(), 'curve.csv');
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
    const bad = path.join(tempDir(), 'bad.safetensors');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 1, 2])));
    const r = await run('generate', '--checkpoint', bad, '--prefix', 'a', '--device', 'cpu');
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain(bad);
    expect((await stat(bad)).size).toBe(10);
  });
});
