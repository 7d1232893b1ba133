// Node only (imported through platform/files.node.ts).
import { open } from 'node:fs/promises';
import { checkHeaderLength } from './safetensors-decode.ts';

/**
 * Reads the file after checking its 8-byte header length against the limit and the file size: a file
 * that is not a checkpoint at all (a video, a disk image) is refused without reading it whole.
 */
export async function readFileChecked(path: string, maxHeaderBytes: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    // A bad limit is left for decodeSafetensors to report.
    if (size >= 8 && Number.isSafeInteger(maxHeaderBytes) && maxHeaderBytes >= 0) {
      const head = new Uint8Array(8);
      await handle.read(head, 0, 8, 0);
      checkHeaderLength(new DataView(head.buffer).getBigUint64(0, true), size, maxHeaderBytes);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
