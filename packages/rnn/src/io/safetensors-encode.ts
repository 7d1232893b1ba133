/**
 * Serialises named tensors to safetensors bytes that `safetensors.torch.load_file` opens directly.
 */
import { CheckpointError } from './errors.ts';
import {
  BYTES_PER_ELEMENT,
  DTYPE_TO_HEADER,
  HOST_IS_LITTLE_ENDIAN,
  METADATA_KEY,
  defineOwn,
  type SafeTensor,
} from './safetensors-types.ts';

/**
 * Encodes tensors (and optional string metadata) as a safetensors byte buffer. Tensors are laid out in
 * the iteration order of `tensors`, back to back; the JSON header is padded with spaces so the data
 * section starts on an 8-byte boundary, as the format requires for zero-copy readers.
 *
 * @throws {@link CheckpointError} if a name, dtype, shape or data length is invalid, or metadata is not all strings.
 */
export function encodeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  const entries = Object.entries(tensors);
  let offset = 0;
  for (const [name, tensor] of entries) {
    const byteLength = checkTensor(name, tensor);
    // defineOwn, not `header[name] =`: a tensor named "__proto__" must become a key, not a prototype.
    defineOwn(header, name, {
      dtype: DTYPE_TO_HEADER[tensor.dtype],
      shape: [...tensor.shape],
      data_offsets: [offset, offset + byteLength],
    });
    offset += byteLength;
  }
  if (metadata !== undefined) {
    header[METADATA_KEY] = checkMetadata(metadata);
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad so that 8 (length field) + header length is a multiple of 8.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  let pos = 8 + headerLength;
  for (const [, tensor] of entries) {
    writeLittleEndian(out, pos, tensor.data);
    pos += tensor.data.length * BYTES_PER_ELEMENT;
  }
  return out;
}

/** Validates one tensor before anything is written, returning its byte length. */
function checkTensor(name: string, tensor: SafeTensor): number {
  if (name === '' || name === METADATA_KEY) {
    throw new CheckpointError(`encodeSafetensors: invalid tensor name ${JSON.stringify(name)}: expected a non-empty name other than "${METADATA_KEY}"`);
  }
  const where = `encodeSafetensors: tensor "${name}"`;
  if (tensor === null || typeof tensor !== 'object') {
    throw new CheckpointError(`${where}: expected {dtype, shape, data}, got ${tensor === null ? 'null' : typeof tensor}`);
  }
  const { dtype, shape, data } = tensor;
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new CheckpointError(`${where}: unsupported dtype ${JSON.stringify(dtype)}, expected "float32" or "int32"`);
  }
  const expectedClass = dtype === 'float32' ? Float32Array : Int32Array;
  if (!(data instanceof expectedClass)) {
    throw new CheckpointError(`${where}: dtype "${dtype}" needs a ${expectedClass.name}, got ${describeData(data)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(`${where}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new CheckpointError(`${where}: shape [${shape.join(',')}] holds ${count} elements but data has ${data.length}`);
  }
  return count * BYTES_PER_ELEMENT;
}

/** Checks metadata is a flat string-to-string map, which is all the format allows. */
function checkMetadata(metadata: Record<string, string>): Record<string, string> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new CheckpointError(`encodeSafetensors: metadata must be an object of strings, got ${JSON.stringify(metadata)}`);
  }
  const copy: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new CheckpointError(`encodeSafetensors: metadata "${key}" must be a string, got ${typeof value} ${JSON.stringify(value)}`);
    }
    defineOwn(copy, key, value);
  }
  return copy;
}

/** Copies a typed array's elements into `out` at `pos` as little-endian bytes, whatever the host order. */
function writeLittleEndian(out: Uint8Array, pos: number, data: Float32Array | Int32Array): void {
  if (HOST_IS_LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + pos, data.byteLength);
  const isFloat = data instanceof Float32Array;
  for (let i = 0; i < data.length; i++) {
    if (isFloat) view.setFloat32(i * 4, data[i]!, true);
    else view.setInt32(i * 4, data[i]!, true);
  }
}

function describeData(data: unknown): string {
  if (data === null) return 'null';
  if (typeof data === 'object') return (data as object).constructor?.name ?? 'object';
  return typeof data;
}
