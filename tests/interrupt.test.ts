/*
 * Ctrl-C during `tinytape train --save`, on a real process: the CLI is bundled into a temporary folder
 * (not .cache/bundles, which `pnpm train` rebuilds), spawned, and sent SIGINT once its first epoch
 * is printed. It must save a checkpoint that loads and resumes to the same parameters as a run that was
 * never interrupted, say so in one line, and exit with status 130.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDir } from './cli-harness.ts';
import { main } from '../packages/rnn/src/cli/main.ts';
import { loadCheckpoint, readTrainingState } from '../packages/rnn/src/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir = '';
let cli = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tinytape-sigint-'));
  cli = path.join(dir, 'tinytape.mjs');
  await build({
    entryPoints: [path.resolve(here, '../packages/rnn/src/cli/bin.ts')],
    outfile: cli,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['webgpu'],
    conditions: ['tinytape-source'],
    logLevel: 'error',
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FLAGS = ['--device', 'cpu', '--data-dir', dataDir, '--hidden', '12', '--batch-size', '4', '--num-steps', '8', '--max-tokens', '600', '--pred-len', '4'];

/** Runs the bundled CLI, sending SIGINT once the first JSON line (epoch 1) arrives on stdout. */
function trainAndInterrupt(args: string[]): Promise<{ code: number | null; signal: string | null; out: string[]; err: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!sent && out.includes('\n')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = (s: string) => s.split('\n').filter((l) => l !== '');
      resolve({ code, signal, out: lines(out), err: lines(err) });
    });
  });
}

async function run(...argv: string[]): Promise<number> {
  return main(argv, { out: () => {}, err: () => {}, tty: false });
}

describe('Ctrl-C during training', () => {
  it('saves a checkpoint at an epoch boundary, says how to resume, exits 130; resuming ends where an uninterrupted run ends', async () => {
    const ckpt = path.join(dir, 'interrupted.safetensors');
    const r = await trainAndInterrupt([...FLAGS, '--epochs', '100000', '--json', '--save', ckpt]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    const done = r.out.length;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(r.err.at(-2)).toContain(`stopping at the end of this epoch to save ${ckpt}`);
    expect(r.err.at(-1)).toBe(
      `tinytape: interrupted after epoch ${done} of 100000; saved ${ckpt}; to go on, run the same command with --resume ${ckpt}`,
    );
    expect(r.err.join('\n')).not.toMatch(/\n\s+at /);

    const saved = await loadCheckpoint(ckpt);
    expect(saved.info.epoch).toBe(done);
    expect(readTrainingState(saved.info)!.history.map((h) => h.epoch)).toEqual(Array.from({ length: done }, (_, i) => i + 1));

    const epochs = String(done + 2);
    const resumed = path.join(dir, 'resumed.safetensors');
    const straight = path.join(dir, 'straight.safetensors');
    expect(await run('train', ...FLAGS, '--epochs', epochs, '--resume', ckpt, '--save', resumed)).toBe(0);
    expect(await run('train', ...FLAGS, '--epochs', epochs, '--save', straight)).toBe(0);
    const a = await loadCheckpoint(resumed);
    const b = await loadCheckpoint(straight);
    for (const [name, t] of Object.entries(b.tensors)) expect(a.tensors[name]!.data, name).toEqual(t.data);
  });

  it('without --save, SIGINT keeps its default and ends the process at once', async () => {
    const r = await trainAndInterrupt([...FLAGS, '--epochs', '100000', '--json']);
    expect(r.signal).toBe('SIGINT');
  });
});
