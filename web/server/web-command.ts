/*
 * `pnpm web [--port N] [--data-dir DIR]`: builds the page, serves it on 127.0.0.1, prints the URL, and
 * stops cleanly on Ctrl-C.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DATA_HUB, resolveCacheDir } from '@tinytape/data';
import { startWebServer } from './static-server.ts';

/** The port when --port is not given. */
export const DEFAULT_PORT = 8173;

const USAGE = `usage: pnpm web [--port N] [--data-dir DIR]

Builds tinytape's browser page and serves it on http://127.0.0.1:N/ (N = ${DEFAULT_PORT} unless given;
0 picks a free port), with The Time Machine from DIR (default: $TINYTAPE_DATA_DIR, else ~/.cache/tinytape).
Ctrl-C stops it.`;

/** What the command line asks for. */
export interface WebArgs {
  port: number;
  dataDir: string | undefined;
  help: boolean;
}

/** A command line the command cannot use; the message says why. */
export class WebArgsError extends Error {}

/**
 * Reads `--port N`, `--data-dir DIR` and `--help`.
 *
 * @throws {@link WebArgsError} for an unknown flag, a missing value or a port out of range.
 */
export function parseWebArgs(argv: readonly string[]): WebArgs {
  const args: WebArgs = { port: DEFAULT_PORT, dataDir: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new WebArgsError(`${flag}: expected a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const text = value();
        const port = Number(text);
        if (!/^\d+$/.test(text) || port > 65535) throw new WebArgsError(`--port: expected a port from 0 to 65535, got "${text}"`);
        args.port = port;
        break;
      }
      case '--data-dir':
        args.dataDir = path.resolve(value());
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new WebArgsError(`unknown argument "${argv[i]}"\n${USAGE}`);
    }
  }
  return args;
}

/** How the command builds the page: web/scripts/build.mjs, handed in by web/scripts/web.mjs. */
export interface PageBuilder {
  /** Builds the page and returns its folder. */
  build(): Promise<string>;
  /** The names of the built page's files. */
  files: readonly string[];
}

/** Runs the command; resolves with the exit status once the server has stopped (or failed to start). */
export async function main(argv: readonly string[], page: PageBuilder, io = { out: console.log, err: console.error }): Promise<number> {
  let args: WebArgs;
  try {
    args = parseWebArgs(argv);
  } catch (error) {
    io.err(`tinytape web: ${(error as Error).message}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  const dataDir = args.dataDir ?? resolveCacheDir();
  const book = path.join(dataDir, DATA_HUB.timemachine!.fileName);
  const pageDir = await page.build();
  let server;
  try {
    server = await startWebServer({ pageDir, pageFiles: page.files, dataFiles: { '/data/timemachine.txt': book }, port: args.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.err(`tinytape web: cannot listen on 127.0.0.1:${args.port}: ${code === 'EADDRINUSE' ? 'the port is in use; give another with --port N' : (error as Error).message}`);
    return 1;
  }
  if (!existsSync(book)) {
    io.err(`tinytape web: ${book} is missing, so the page can only train on a file you drop on it; pnpm train --epochs 1 downloads it, or give --data-dir DIR`);
  }
  io.out(`tinytape web: serving the page at ${server.url} (The Time Machine from ${dataDir}); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  io.out('tinytape web: stopped');
  return 0;
}
