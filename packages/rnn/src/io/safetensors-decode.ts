/**
 * Parses safetensors bytes defensively. A checkpoint may come from anywhere (a crashed run, a download, a
 * hand edit), so every header field is checked before it is trusted, sizes are checked before anything is
 * allocated, and the header is only ever read with `JSON.parse`.
 */
import { CheckpointError } from './errors.ts';
import {
  BYTES_PER_ELEMENT,
  DEFAULT_MAX_HEADER_BYTES,
  HEADER_TO_DTYPE,
  HOST_IS_LITTLE_ENDIAN,
  METADATA_KEY,
  defineOwn,
  type DecodeOptions,
  type DecodedSafetensors,
  type SafeDType,
  type SafeTensor,
} from './safetensors-types.ts';

/** A header entry that passed validation, before its bytes are copied out. */
interface Entry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Decodes a safetensors buffer into typed arrays (copies, so the result does not pin `bytes`).
 *
 * @param bytes - the whole file.
 * @param opts - `maxHeaderBytes` caps the JSON header size (default 100 MB).
 * @throws {@link CheckpointError} naming the tensor and the problem: short file, oversized or non-JSON
 *   header, unknown dtype, bad shape, offsets out of bounds / overlapping / not matching the shape,
 *   truncated or trailing data.
 */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError(`decodeSafetensors: expected a Uint8Array, got ${typeof bytes}`);
  }
  const maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) {
    throw new CheckpointError(`decodeSafetensors: maxHeaderBytes must be a non-negative integer, got ${maxHeaderBytes}`);
  }
  if (bytes.length < 8) {
    throw new CheckpointError(`not a safetensors file: ${bytes.length} bytes, expected at least 8 (the header length field)`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = checkHeaderLength(view.getBigUint64(0, true), bytes.length, maxHeaderBytes);

  const header = parseHeader(bytes.subarray(8, 8 + headerLength));
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const metadata = parseMetadata(header[METADATA_KEY]);
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name !== METADATA_KEY) entries.push(parseEntry(name, value, dataLength));
  }
  checkLayout(entries, dataLength);

  const tensors: Record<string, SafeTensor> = {};
  for (const e of entries) {
    const data = readLittleEndian(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype);
    defineOwn(tensors, e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/**
 * Checks a file's leading u64 header length against the limit and the file size, so that a corrupt or
 * hostile length is refused before a buffer of that size is ever asked for.
 *
 * @param rawLength - the little-endian u64 at the start of the file.
 * @param fileLength - bytes in the whole file.
 * @returns the header length as a number.
 * @throws {@link CheckpointError} when the length exceeds `maxHeaderBytes` or the file.
 */
export function checkHeaderLength(rawLength: bigint, fileLength: number, maxHeaderBytes: number): number {
  // Compared as bigint so a garbage value like 2^63 cannot lose precision and slip through.
  if (rawLength > BigInt(maxHeaderBytes)) {
    throw new CheckpointError(`safetensors header length ${rawLength} exceeds the limit of ${maxHeaderBytes} bytes`);
  }
  if (rawLength > BigInt(fileLength - 8)) {
    throw new CheckpointError(`safetensors header length ${rawLength} exceeds the file: only ${fileLength - 8} bytes follow the length field`);
  }
  return Number(rawLength);
}

/** Decodes the header bytes as strict UTF-8 and parses them as a JSON object. */
function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // fatal: reject invalid UTF-8 instead of silently substituting U+FFFD.
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new CheckpointError('safetensors header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CheckpointError(`safetensors header is not valid JSON (${reason})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CheckpointError(`safetensors header must be a JSON object, got ${describeJson(parsed)}`);
  }
  return parsed as Record<string, unknown>;
}

/** Validates `__metadata__`: absent, or a flat object of strings. */
function parseMetadata(value: unknown): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (value === undefined) return metadata;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CheckpointError(`safetensors "${METADATA_KEY}" must be an object of strings, got ${describeJson(value)}`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new CheckpointError(`safetensors metadata "${key}" must be a string, got ${describeJson(v)}`);
    }
    defineOwn(metadata, key, v);
  }
  return metadata;
}

/** Validates one tensor's header entry: dtype, shape, offsets, and that the offsets fit shape and file. */
function parseEntry(name: string, value: unknown, dataLength: number): Entry {
  const where = `safetensors tensor "${name}"`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CheckpointError(`${where}: expected {dtype, shape, data_offsets}, got ${describeJson(value)}`);
  }
  const { dtype: rawDtype, shape, data_offsets: offsets } = value as Record<string, unknown>;

  const dtype = typeof rawDtype === 'string' && Object.hasOwn(HEADER_TO_DTYPE, rawDtype) ? HEADER_TO_DTYPE[rawDtype] : undefined;
  if (dtype === undefined) {
    throw new CheckpointError(`${where}: unsupported dtype ${describeJson(rawDtype)}, expected "F32" or "I32"`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(`${where}: shape ${describeJson(shape)} must be an array of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new CheckpointError(`${where}: data_offsets ${describeJson(offsets)} must be [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw new CheckpointError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const need = count * BYTES_PER_ELEMENT;
  if (!Number.isSafeInteger(need) || end - begin !== need) {
    throw new CheckpointError(
      `${where}: data_offsets [${begin}, ${end}] cover ${end - begin} bytes, but ${rawDtype} shape [${shape.join(',')}] needs ${need}`,
    );
  }
  if (end > dataLength) {
    throw new CheckpointError(
      `${where}: data is truncated: data_offsets end at byte ${end}, but the file holds only ${dataLength} data bytes`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/**
 * Checks the tensors tile the data section exactly: no overlaps, no gaps and no trailing bytes. The
 * reference reader (and so PyTorch's `load_file`) rejects gaps and leftovers too, so accepting them here
 * would let tinytape read files it could never have written.
 */
function checkLayout(entries: Entry[], dataLength: number): void {
  // Sort (stably) by begin, then end, so a zero-length tensor sits before the one starting at the same byte.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw new CheckpointError(
        `safetensors tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap tensor "${previous!.name}" [${previous!.begin}, ${previous!.end}]`,
      );
    }
    if (e.begin > cursor) {
      throw new CheckpointError(
        `safetensors tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] leave a gap of ${e.begin - cursor} unused bytes before them`,
      );
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    throw new CheckpointError(
      `safetensors data section has ${dataLength - cursor} trailing bytes after the last tensor (tensors end at ${cursor}, data is ${dataLength} bytes)`,
    );
  }
}

/** Copies little-endian bytes into a fresh, aligned typed array, whatever the host byte order. */
function readLittleEndian(src: Uint8Array, dtype: SafeDType): Float32Array | Int32Array {
  const count = src.length / BYTES_PER_ELEMENT;
  const out = dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
  if (HOST_IS_LITTLE_ENDIAN) {
    // Byte copy (not element reads) so NaN payloads survive and misaligned sources are fine.
    new Uint8Array(out.buffer).set(src);
    return out;
  }
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let i = 0; i < count; i++) {
    out[i] = dtype === 'float32' ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
  }
  return out;
}

/** Short, bounded rendering of an untrusted JSON value for error messages. */
function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
