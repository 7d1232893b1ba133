/*
 * The page's local server: a tool for one person's machine, and safe as one. It listens on 127.0.0.1
 * only and serves an allow-list — the built page's files and the data files, each by its exact URL
 * path — so no request path is ever joined onto a folder: `/../`, `%2e%2e%2f` and the like name nothing
 * and get a 404, as does a missing file or one that is a symbolic link (which could point anywhere).
 * Every answer carries the headers that make the page cross-origin isolated, which the wasm backend
 * needs for its second thread.
 */
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** The only interface the server listens on. */
export const HOST = '127.0.0.1';

/** What the server serves. */
export interface WebServerOptions {
  /** The built page's folder; its files are served by name at the top level (`/main.js`). */
  pageDir: string;
  /** The page's files (names inside `pageDir`); `/` serves index.html. */
  pageFiles: readonly string[];
  /** Data files by the URL path they are served at, e.g. `/data/timemachine.txt` -> an absolute path. */
  dataFiles: Record<string, string>;
  /** TCP port; 0 picks a free one. */
  port: number;
}

/** A running server. */
export interface WebServer {
  /** `http://127.0.0.1:PORT/`. */
  url: string;
  port: number;
  /** Stops listening and ends open connections (keep-alive ones too), so the process can exit. */
  close(): Promise<void>;
}

/** Every answer's headers: cross-origin isolation, and no guessing of content types. */
const COMMON_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Starts the server on 127.0.0.1:`port`.
 *
 * @throws the listen error (e.g. EADDRINUSE) when the port cannot be had.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const routes = routeTable(options);
  const server = createServer((request, response) => {
    void answer(routes, request, response).catch(() => {
      if (!response.headersSent) notFound(response);
      else response.destroy();
    });
  });
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** URL path -> file, built once: the allow-list. */
function routeTable(options: WebServerOptions): Map<string, string> {
  const routes = new Map<string, string>();
  for (const name of options.pageFiles) {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`page file names must be plain names, got "${name}"`);
    routes.set(`/${name}`, path.join(options.pageDir, name));
  }
  if (routes.has('/index.html')) routes.set('/', routes.get('/index.html')!);
  for (const [urlPath, file] of Object.entries(options.dataFiles)) {
    if (!urlPath.startsWith('/') || urlPath.split('/').some((s) => s === '..' || s === '.')) throw new Error(`bad data URL path "${urlPath}"`);
    routes.set(urlPath, path.resolve(file));
  }
  return routes;
}

async function answer(routes: Map<string, string>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    plain(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const file = routes.get(requestPath(request.url ?? ''));
  if (file === undefined) return notFound(response);
  // lstat, not stat: a symbolic link is refused, wherever it points.
  const info = await lstat(file).catch(() => null);
  if (info === null || !info.isFile()) return notFound(response);
  response.writeHead(200, {
    ...COMMON_HEADERS,
    'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': info.size,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

/**
 * The request's path, percent-decoded, without its query. Anything odd — a path that does not start
 * with `/`, bad percent-encoding, a NUL — becomes a path that matches no route.
 */
export function requestPath(url: string): string {
  const pathname = url.split(/[?#]/, 1)[0]!;
  if (!pathname.startsWith('/')) return '';
  try {
    const decoded = decodeURIComponent(pathname);
    return decoded.includes('\0') ? '' : decoded;
  } catch {
    return '';
  }
}

/** The one answer for anything not served: no detail about what exists or why. */
function notFound(response: ServerResponse): void {
  plain(response, 404, 'not found\n');
}

function plain(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
