// Node only (imported through platform/files.node.ts): the file cache and atomic writes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveCacheDir } from './cache-dir.ts';
import { DataError } from './errors.ts';
import { lookupDataset, type DataHubEntry } from './hub.ts';
import { fetchBytes } from './fetch-bytes.ts';
import type { ProgressSink } from './progress.ts';
import { sha1Hex } from './sha1.ts';

/** Options of {@link download}. */
export interface DownloadOptions {
  /**
   * Directory to look in and download into. A directory that already holds a file with the right
   * SHA-1 is used as-is, with no network access and no writes. Default: `$TINYTAPE_DATA_DIR`, else
   * `~/.cache/tinytape`.
   */
  cacheDir?: string;
  /** Fetch from this URL instead of the registry's (a mirror); the SHA-1 is still checked. */
  url?: string;
  /** Where the progress line goes; `false` for silence. Default: `process.stderr`. */
  progress?: ProgressSink | false;
  /** Give up on a download that takes longer than this. Default: 120,000 ms. */
  timeoutMs?: number;
}

/** The tail every download failure shares: how to get the file without this function's help. */
function manualFix(dest: string, entry: DataHubEntry): string {
  return `Put the file there yourself at ${dest} (SHA-1 ${entry.sha1}), or pass the path of a local copy.`;
}

/**
 * Downloads data set `name` from {@link DATA_HUB} into the cache directory and returns the file's path
 * (d2l's `download`). A cached file whose SHA-1 matches is reused; anything else is (re)fetched, checked
 * against the SHA-1, and written atomically (temporary file + rename), so an interrupted run never
 * leaves a half-written file under the real name.
 *
 * @throws DataError `unknown-dataset`, `download-failed` (network or HTTP error) or `hash-mismatch`.
 */
export async function download(name: string, options: DownloadOptions = {}): Promise<string> {
  const entry = lookupDataset(name);
  const dir = resolveCacheDir(options.cacheDir);
  const dest = path.join(dir, entry.fileName);

  const cached = await readIfExists(dest);
  if (cached !== null && (await sha1Hex(cached)) === entry.sha1) return dest;

  const url = options.url ?? entry.url;
  const sink = options.progress === undefined ? process.stderr : options.progress || null;
  const bytes = await fetchBytes(url, entry.fileName, manualFix(dest, entry), sink, options.timeoutMs ?? 120_000);

  const actual = await sha1Hex(bytes);
  if (actual !== entry.sha1) {
    throw new DataError(
      'hash-mismatch',
      `download: ${url} gave ${bytes.length} bytes with SHA-1 ${actual}, expected ${entry.sha1} for '${name}'. ` +
        manualFix(dest, entry),
    );
  }
  await writeAtomically(dest, bytes);
  return dest;
}

/** The file's bytes, or null when there is no file (any other read error is real and propagates). */
async function readIfExists(file: string): Promise<Uint8Array | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes via a uniquely named temporary file in the same directory, then renames it into place. */
async function writeAtomically(dest: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  // Same directory, so the rename stays on one file system and is atomic.
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
