/**
 * Checkpoint files in the safetensors format, so a tinytape model can be opened from PyTorch with
 * `safetensors.torch.load_file(path)` and vice versa. Encoding and decoding live in their own modules;
 * this one adds the file side (atomic save, load with the path in every error; Node only, through
 * platform/files) and is the public entry.
 */
import { readFileChecked, writeFileAtomic } from '#platform/files';
import { CheckpointError, FileWriteError } from './errors.ts';
import { decodeSafetensors } from './safetensors-decode.ts';
import { encodeSafetensors } from './safetensors-encode.ts';
import { DEFAULT_MAX_HEADER_BYTES, type DecodeOptions, type DecodedSafetensors, type SafeTensor } from './safetensors-types.ts';

export { decodeSafetensors } from './safetensors-decode.ts';
export { encodeSafetensors } from './safetensors-encode.ts';
export {
  DEFAULT_MAX_HEADER_BYTES,
  type DecodeOptions,
  type DecodedSafetensors,
  type SafeDType,
  type SafeTensor,
} from './safetensors-types.ts';

/**
 * Encodes `tensors` and writes them to `path` atomically: a crash or error mid-save leaves the previous
 * checkpoint intact and no temp file behind.
 *
 * @throws {@link CheckpointError} for invalid tensors or metadata, or when the file cannot be written
 *   (the message names the path and the reason; the system error is its `cause`).
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  // Encode first: a bad tensor must fail before the file system is touched at all.
  const bytes = encodeSafetensors(tensors, metadata);
  try {
    await writeFileAtomic(path, bytes);
  } catch (err) {
    if (err instanceof FileWriteError) {
      throw new CheckpointError(`cannot save checkpoint: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * Reads and decodes the safetensors file at `path`.
 *
 * @throws {@link CheckpointError} when the file is missing or unreadable, or is not a valid safetensors
 *   file; the message starts with the path.
 */
export async function loadSafetensors(path: string, opts?: DecodeOptions): Promise<DecodedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileChecked(path, opts?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  } catch (err) {
    if (err instanceof CheckpointError) throw new CheckpointError(`checkpoint "${path}": ${err.message}`, { cause: err });
    const code = (err as { code?: unknown } | null)?.code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, expected a file' : err instanceof Error ? err.message : String(err);
    throw new CheckpointError(`cannot read checkpoint "${path}": ${reason}`, { cause: err });
  }
  try {
    return decodeSafetensors(bytes, opts);
  } catch (err) {
    if (err instanceof CheckpointError) {
      throw new CheckpointError(`checkpoint "${path}": ${err.message}`, { cause: err });
    }
    throw err;
  }
}
