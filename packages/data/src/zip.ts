// Our own reader, not a library's: it needs one entry of one archive, is about a hundred lines, and
// inflates with the platform's DecompressionStream('deflate-raw'), which Node (>= 20.12) and browsers
// both have, so it works in both with no dependency. (fflate would add a second inflater to the browser
// bundle for no gain here.)
import { DataError } from './errors.ts';

// Record signatures and fixed sizes from the ZIP file format (PKWARE APPNOTE).
const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;

/** One central-directory record, the fields needed to extract the entry. */
interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** True when `bytes` start with a ZIP local file header ("PK\x03\x04"). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === LOCAL_SIGNATURE;
}

/**
 * Extracts one entry of a ZIP archive held in memory: finds the central directory through the
 * end-of-central-directory record, reads the entry's sizes there (they are reliable even when the local
 * header defers them to a data descriptor), inflates the data (DecompressionStream) and checks its CRC-32.
 * Supports stored and deflated entries; ZIP64 and encryption are rejected with a clear error.
 *
 * @param label - how to name the archive in error messages (usually its path).
 * @throws DataError `bad-zip` for a damaged or unsupported archive or a missing entry.
 */
export async function readZipEntry(bytes: Uint8Array, entryName: string, label = 'zip archive'): Promise<Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): DataError => new DataError('bad-zip', `readZipEntry: ${label}: ${why}`);
  const entries = readCentralDirectory(view, bad);
  const entry = entries.find((e) => e.name === entryName);
  if (!entry) {
    throw bad(`no entry '${entryName}' (entries: ${entries.map((e) => e.name).join(', ') || 'none'})`);
  }
  if (entry.flags & 1) throw bad(`entry '${entryName}' is encrypted`);

  const local = entry.localHeaderOffset;
  if (local + LOCAL_HEADER_SIZE > view.byteLength || view.getUint32(local, true) !== LOCAL_SIGNATURE) {
    throw bad(`entry '${entryName}' has no local file header at offset ${local}`);
  }
  const dataStart = local + LOCAL_HEADER_SIZE + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > view.byteLength) throw bad(`entry '${entryName}' runs past the end of the file`);
  const raw = bytes.subarray(dataStart, dataEnd);

  let out: Uint8Array;
  if (entry.method === 0) out = raw;
  else if (entry.method === 8) {
    try {
      out = await inflateRaw(raw);
    } catch (err) {
      throw bad(`entry '${entryName}' does not inflate (${(err as Error).message})`);
    }
  } else throw bad(`entry '${entryName}' uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);

  if (out.length !== entry.uncompressedSize) {
    throw bad(`entry '${entryName}' inflated to ${out.length} bytes, the directory says ${entry.uncompressedSize}`);
  }
  if (crc32(out) !== entry.crc) throw bad(`entry '${entryName}' fails its CRC-32 check`);
  return out;
}

/** Locates the end-of-central-directory record (scanning back over a trailing comment) and lists entries. */
function readCentralDirectory(view: DataView, bad: (why: string) => DataError): CentralEntry[] {
  let eocd = -1;
  const lowest = Math.max(0, view.byteLength - EOCD_SIZE - MAX_COMMENT);
  for (let i = view.byteLength - EOCD_SIZE; i >= lowest; i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('not a zip archive (no end-of-central-directory record)');

  const count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || offset === 0xffffffff) throw bad('ZIP64 archives are not supported');

  const entries: CentralEntry[] = [];
  const decoder = new TextDecoder('utf-8');
  for (let n = 0; n < count; n++) {
    if (offset + CENTRAL_HEADER_SIZE > view.byteLength || view.getUint32(offset, true) !== CENTRAL_SIGNATURE) {
      throw bad(`central directory record ${n} is damaged`);
    }
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const nameStart = offset + CENTRAL_HEADER_SIZE;
    entries.push({
      name: decoder.decode(new Uint8Array(view.buffer, view.byteOffset + nameStart, nameLength)),
      flags: view.getUint16(offset + 8, true),
      method: view.getUint16(offset + 10, true),
      crc: view.getUint32(offset + 16, true),
      compressedSize: view.getUint32(offset + 20, true),
      uncompressedSize: view.getUint32(offset + 24, true),
      localHeaderOffset: view.getUint32(offset + 42, true),
    });
    offset = nameStart + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Inflates a raw deflate stream (no zlib header), as ZIP entries store it. */
async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** CRC-32 (the ZIP/zlib polynomial 0xEDB88320, reflected), one byte at a time from a 256-entry table. */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
