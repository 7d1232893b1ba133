/**
 * Atomic file replacement: a reader (or a crash) sees either the old file or the complete new one, never
 * a half-written checkpoint. Used for checkpoints, SVG plots and CSV logs that are rewritten every epoch.
 * Node only (imported through platform/files.node.ts).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { FileWriteError } from './errors.ts';

/**
 * Writes `data` to `path` atomically: the bytes go to `path + '.tmp-<pid>-<random>'` in the same
 * directory, are fsynced, and the temp file is renamed over `path`. On any failure the temp file is
 * removed and a previous file at `path` is left exactly as it was.
 *
 * @param path - target file; its directory must already exist.
 * @param data - text (written as UTF-8) or raw bytes.
 * @throws {@link FileWriteError} naming the path and the reason (missing directory, permission, ...).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new FileWriteError(`writeFileAtomic: expected a non-empty file path, got ${JSON.stringify(path)}`);
  }
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new FileWriteError(`writeFileAtomic: expected a string or Uint8Array for "${path}", got ${typeof data}`);
  }
  // Same directory as the target, because rename is only atomic within one file system. The pid and
  // random suffix keep two concurrent writers (or a stale temp from a crash) from colliding.
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // 'wx' fails rather than truncating if that temp name somehow exists already.
    handle = await open(tmp, 'wx');
    await handle.writeFile(data);
    // Without fsync a crash right after rename can leave a renamed but empty file on some file systems.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new FileWriteError(`cannot write "${path}": ${describeFsError(err, path)}`, { cause: err });
  }
  await syncDirectory(dirname(path));
}

/** Makes the rename itself durable; best effort, since some platforms (Windows) cannot open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The data file itself is already synced; losing the directory entry on a crash is the only risk.
  }
}

/** Turns a Node file-system error into a short reason that tells the user what to fix. */
function describeFsError(err: unknown, path: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return `directory "${dirname(path)}" does not exist`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied in "${dirname(path)}"`;
    case 'EISDIR':
    case 'ENOTEMPTY':
    case 'EEXIST':
      return `"${basename(path)}" is a directory, expected a file path`;
    case 'ENOTDIR':
      return `a parent of "${path}" is a file, not a directory`;
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
