import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheDir } from './cache-dir.ts';
import { download } from './download.ts';
import { DataError } from './errors.ts';
import { DATA_HUB } from './hub.ts';
import { sha1Hex } from './sha1.ts';
import { SHARED_DATA_DIR, withTempDir } from './testing/shared-data.ts';

const TIME_MACHINE_SHA1 = '090b5e7e70c295757f55df93cb0a180b9691891a';

let server: Server;
let base: string;
let hits = 0;

beforeAll(async () => {
  const good = await readFile(path.join(SHARED_DATA_DIR, 'timemachine.txt'));
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/timemachine.txt') {
      res.writeHead(200, { 'content-length': good.length });
      res.end(good);
    } else if (req.url === '/wrong.txt') {
      res.end('not the time machine\n');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A sink that records what the progress reporter writes. */
function sink(): { write(text: string): void; text: () => string } {
  const parts: string[] = [];
  return { write: (t: string) => void parts.push(t), text: () => parts.join('') };
}

describe('DATA_HUB', () => {
  it('records the published URLs and SHA-1s', () => {
    expect(DATA_HUB.timemachine).toMatchObject({
      url: 'http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt',
      sha1: TIME_MACHINE_SHA1,
      fileName: 'timemachine.txt',
    });
    expect(DATA_HUB.jaychou).toMatchObject({
      sha1: '9529987e701a4f37048ab778270a5dde9a762a0b',
      fileName: 'jaychou_lyrics.txt.zip',
      zipEntry: 'jaychou_lyrics.txt',
    });
  });
});

describe('download', () => {
  it('downloads, verifies, reports progress, and writes the file under its name', async () => {
    await withTempDir(async (dir) => {
      const progress = sink();
      const file = await download('timemachine', { cacheDir: dir, url: `${base}/timemachine.txt`, progress });
      expect(file).toBe(path.join(dir, 'timemachine.txt'));
      expect(await sha1Hex(await readFile(file))).toBe(TIME_MACHINE_SHA1);
      expect(progress.text()).toMatch(/downloading timemachine\.txt: .*KiB \/ .*KiB \(100%\)/);
      // The temporary file was renamed away.
      expect(await readdir(dir)).toEqual(['timemachine.txt']);
    });
  });

  it('reuses a cached file whose hash matches, without touching the network', async () => {
    await withTempDir(async (dir) => {
      await download('timemachine', { cacheDir: dir, url: `${base}/timemachine.txt`, progress: false });
      const before = hits;
      const file = await download('timemachine', { cacheDir: dir, url: 'http://127.0.0.1:1/unreachable', progress: false });
      expect(file).toBe(path.join(dir, 'timemachine.txt'));
      expect(hits).toBe(before);
    });
  });

  it('accepts a directory where the file already sits (the shared data directory)', async () => {
    const file = await download('timemachine', { cacheDir: SHARED_DATA_DIR, url: 'http://127.0.0.1:1/x', progress: false });
    expect(file).toBe(path.join(path.resolve(SHARED_DATA_DIR), 'timemachine.txt'));
  });

  it('replaces a cached file with the wrong hash', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'timemachine.txt'), 'stale');
      const file = await download('timemachine', { cacheDir: dir, url: `${base}/timemachine.txt`, progress: false });
      expect(await sha1Hex(await readFile(file))).toBe(TIME_MACHINE_SHA1);
    });
  });

  it('a SHA-1 mismatch is a DataError that says where to put the file, and nothing is written', async () => {
    await withTempDir(async (dir) => {
      const err = await download('timemachine', { cacheDir: dir, url: `${base}/wrong.txt`, progress: false }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe('hash-mismatch');
      const dest = path.join(dir, 'timemachine.txt');
      expect((err as Error).message).toContain(`expected ${TIME_MACHINE_SHA1}`);
      expect((err as Error).message).toContain(await sha1Hex(new TextEncoder().encode('not the time machine\n')));
      expect((err as Error).message).toContain(`Put the file there yourself at ${dest}`);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('an HTTP error is a download-failed DataError', async () => {
    await withTempDir(async (dir) => {
      await expect(
        download('timemachine', { cacheDir: dir, url: `${base}/missing.txt`, progress: false }),
      ).rejects.toThrow(/could not fetch .*missing\.txt \(HTTP 404/);
    });
  });

  it('a refused connection is a download-failed DataError that says what to do', async () => {
    // Learn a free port, then close the listener so the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await withTempDir(async (dir) => {
      const err = await download('timemachine', {
        cacheDir: dir,
        url: `http://127.0.0.1:${port}/timemachine.txt`,
        progress: false,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe('download-failed');
      expect((err as Error).message).toMatch(/ECONNREFUSED/);
      expect((err as Error).message).toContain(`at ${path.join(dir, 'timemachine.txt')}`);
      expect((err as Error).message).toContain('or pass the path of a local copy');
    });
  });

  it('an unknown name lists the known ones', async () => {
    await expect(download('nope', { progress: false })).rejects.toThrow(/no data set named 'nope'.*timemachine, jaychou/);
  });
});

describe('resolveCacheDir', () => {
  it('prefers the argument, then TINYTAPE_DATA_DIR, then ~/.cache/tinytape', () => {
    const saved = process.env.TINYTAPE_DATA_DIR;
    try {
      process.env.TINYTAPE_DATA_DIR = '/tmp/from-env';
      expect(resolveCacheDir('/tmp/from-arg')).toBe('/tmp/from-arg');
      expect(resolveCacheDir()).toBe('/tmp/from-env');
      delete process.env.TINYTAPE_DATA_DIR;
      expect(resolveCacheDir()).toMatch(/\.cache[/\\]tinytape$/);
    } finally {
      if (saved === undefined) delete process.env.TINYTAPE_DATA_DIR;
      else process.env.TINYTAPE_DATA_DIR = saved;
    }
  });
});
