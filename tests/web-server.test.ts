/*
 * The page's local server (web/server/) is safe as a local tool: it listens on 127.0.0.1 only, serves
 * the built page and the data file and nothing else, answers every path that climbs out (`/../`,
 * `%2e%2e%2f`, symbolic links) or names a missing file with a bare 404, sends the headers that make
 * the page cross-origin isolated, and `pnpm web` prints its URL and stops cleanly on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_HUB } from '@tinytape/data';
import { PAGE_FILES, buildPage } from '../web/scripts/build.mjs';
import { HOST, type WebServer, requestPath, startWebServer } from '../web/server/static-server.ts';
import { DEFAULT_PORT, WebArgsError, parseWebArgs } from '../web/server/web-command.ts';
import { dataDir, useTempDir } from './cli-harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = useTempDir('tinytape-web-server-');

/** A raw HTTP/1.1 exchange, so paths reach the server exactly as written (fetch would normalise `/../`). */
async function raw(port: number, target: string, method = 'GET', host = HOST): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(`${method} ${target} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head!.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

describe('the static server', () => {
  let server: WebServer;
  let page = '';
  beforeAll(async () => {
    page = path.join(dir(), 'page');
    await mkdir(page);
    await writeFile(path.join(page, 'index.html'), '<!doctype html><title>page</title>');
    await writeFile(path.join(page, 'main.js'), 'console.log(1);');
    await writeFile(path.join(page, 'not-listed.js'), 'in the folder, but not one of the page files');
    // Outside the page folder: what a climbing path would like to read.
    await writeFile(path.join(dir(), 'secret.txt'), 'secret');
    // A page file that is a symbolic link out of the folder.
    await symlink(path.join(dir(), 'secret.txt'), path.join(page, 'style.css'));
    server = await startWebServer({
      pageDir: page,
      pageFiles: ['index.html', 'main.js', 'style.css', 'worker.js'],
      dataFiles: { '/data/timemachine.txt': path.join(dataDir, 'timemachine.txt') },
      port: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('listens on 127.0.0.1 and nowhere else', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect((await raw(server.port, '/')).status).toBe(200);
    // Every other address of this machine refuses the connection (a machine with only loopback has none to try).
    const others = Object.values(networkInterfaces()).flat().filter((a) => a !== undefined && !a.internal && a.family === 'IPv4');
    for (const address of others) await expect(raw(server.port, '/', 'GET', address!.address)).rejects.toThrow(/ECONNREFUSED/);
    await expect(raw(server.port, '/', 'GET', '::1')).rejects.toThrow(/ECONNREFUSED|EADDRNOTAVAIL/);
  });

  it('serves the page with the headers of cross-origin isolation', async () => {
    for (const target of ['/', '/index.html', '/main.js', '/?model=rnn&autostart=1']) {
      const r = await raw(server.port, target);
      expect(r.status, target).toBe(200);
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await raw(server.port, '/')).headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await raw(server.port, '/main.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('serves The Time Machine whole (the page checks its SHA-1)', async () => {
    const r = await fetch(`${server.url}data/timemachine.txt`);
    expect(r.status).toBe(200);
    const bytes = new Uint8Array(await r.arrayBuffer());
    expect(createHash('sha1').update(bytes).digest('hex')).toBe(DATA_HUB.timemachine!.sha1);
    const head = await raw(server.port, '/data/timemachine.txt', 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(bytes.length);
    expect(head.body).toBe('');
  });

  it.each([
    '/../secret.txt',
    '/../../../../etc/passwd',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/..%2fsecret.txt',
    '/data/../../secret.txt',
    '/data/..%2f..%2fsecret.txt',
    '/data/%2e%2e/%2e%2e/secret.txt',
    '/%252e%252e%252fsecret.txt',
    '/..\\secret.txt',
    '/data%2ftimemachine.txt/../../secret.txt',
    '//etc/passwd',
    '/etc/passwd',
    '/%00index.html',
    '/index.html%00',
    '/%zz',
    '/./index.html',
    '/index.html/',
    '/data/',
    '/data',
    '/missing.js',
    '/worker.js',
    '/not-listed.js',
    '/style.css',
    'http://127.0.0.1/../secret.txt',
    '*',
  ])('%s: a bare 404', async (target) => {
    const r = await raw(server.port, target);
    expect(r.status).toBe(404);
    expect(r.body).toBe('not found\n');
    expect(r.body).not.toContain('secret');
  });

  it('answers only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await raw(server.port, '/index.html', method);
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('reads request paths strictly', () => {
    expect(requestPath('/data/timemachine.txt?x=1#y')).toBe('/data/timemachine.txt');
    expect(requestPath('/%2e%2e%2f')).toBe('/../');
    expect(requestPath('/%zz')).toBe('');
    expect(requestPath('/a%00b')).toBe('');
    expect(requestPath('index.html')).toBe('');
  });
});

describe('pnpm web', () => {
  it('parses --port and --data-dir, and refuses what it does not know', () => {
    expect(parseWebArgs([])).toEqual({ port: DEFAULT_PORT, dataDir: undefined, help: false });
    expect(parseWebArgs(['--port', '9000', '--data-dir', 'x'])).toEqual({ port: 9000, dataDir: path.resolve('x'), help: false });
    expect(parseWebArgs(['--port=0']).port).toBe(0);
    expect(() => parseWebArgs(['--port', '70000'])).toThrow(WebArgsError);
    expect(() => parseWebArgs(['--port', '-1'])).toThrow('--port: expected a port from 0 to 65535, got "-1"');
    expect(() => parseWebArgs(['--port'])).toThrow('--port: expected a value');
    expect(() => parseWebArgs(['--host', '0.0.0.0'])).toThrow('unknown argument "--host"');
  });

  it('builds the page, serves it on --port N, prints the URL and stops cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(root, 'web/scripts/web.mjs'), '--port', String(port), '--data-dir', dataDir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}/`;
      await until(() => out.includes(url), 60_000, () => `no URL printed; stdout: ${out}; stderr: ${err}`);
      expect(out).toContain(`serving the page at ${url}`);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="main.js">');
      expect((await fetch(`${url}worker.js`)).status).toBe(200);
      expect((await fetch(`${url}data/timemachine.txt`, { method: 'HEAD' })).status).toBe(200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toContain('tinytape web: stopped');
      expect(err).toBe('');
      // The port is free again.
      await expect(listenOn(port)).resolves.toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('says so when the port is taken', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, HOST, () => resolve((blocker.address() as { port: number }).port)));
    try {
      const child = spawn(process.execPath, [path.join(root, 'web/scripts/web.mjs'), '--port', String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(err).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use; give another with --port N`);
    } finally {
      blocker.close();
    }
  }, 120_000);

  it('builds the page files and nothing else (all of which the server serves)', async () => {
    const out = await buildPage(path.join(dir(), 'built'));
    expect((await readdir(out)).sort()).toEqual([...PAGE_FILES].sort());
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await new Promise<number>((resolve) => probe.listen(0, HOST, () => resolve((probe.address() as { port: number }).port)));
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Resolves once something can listen on `port` again (and lets it go). */
async function listenOn(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, HOST, () => resolve());
  });
  await new Promise((resolve) => probe.close(resolve));
}

async function until(check: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(why());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
