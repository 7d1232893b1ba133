// A browser has no file paths: checkpoints there go through bytes (checkpointToBytes,
// checkpointFromBytes), which a page offers as a download or reads from a picked file.
import { CheckpointError, FileWriteError } from '../io/errors.ts';

/** Node only: throws a FileWriteError in a browser. */
export async function writeFileAtomic(path: string, _data: string | Uint8Array): Promise<void> {
  throw new FileWriteError(`cannot write "${path}": writing files needs Node; in a browser use checkpointToBytes and offer the bytes as a download`);
}

/** Node only: throws a CheckpointError in a browser. */
export async function readFileChecked(path: string, _maxHeaderBytes: number): Promise<Uint8Array> {
  throw new CheckpointError(`cannot read "${path}": reading files needs Node; in a browser use checkpointFromBytes on the file's bytes`);
}
