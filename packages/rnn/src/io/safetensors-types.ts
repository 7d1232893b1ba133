/**
 * Shared types and constants of the safetensors reader and writer (https://huggingface.co/docs/safetensors):
 * an 8-byte little-endian header length, a JSON header, then raw little-endian tensor bytes.
 */

/** Element types tinytape stores; both are 4 bytes wide. */
export type SafeDType = 'float32' | 'int32';

/** One named tensor as plain data: row-major values of `shape`, in the typed array matching `dtype`. */
export interface SafeTensor {
  /** Element type; must match the typed array class of `data`. */
  dtype: SafeDType;
  /** Dimensions; `[]` is a scalar holding one element. */
  shape: number[];
  /** Row-major values; length must equal the product of `shape`. */
  data: Float32Array | Int32Array;
}

/** What {@link decodeSafetensors} returns: the tensors by name and the free-form string metadata. */
export interface DecodedSafetensors {
  /** Tensors by name, in the order their bytes appear in the file. */
  tensors: Record<string, SafeTensor>;
  /** The header's `__metadata__` map; `{}` when the file has none. */
  metadata: Record<string, string>;
}

/** Options for {@link decodeSafetensors}. */
export interface DecodeOptions {
  /** Largest JSON header accepted, in bytes; guards against allocating a huge buffer for a corrupt length. Default 100 MB. */
  maxHeaderBytes?: number;
}

/** Default header size limit; the same 100 MB the reference Rust implementation enforces. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** Reserved header key for metadata; never a tensor name. */
export const METADATA_KEY = '__metadata__';

/** Bytes per element for every supported dtype. */
export const BYTES_PER_ELEMENT = 4;

/** tinytape dtype name to safetensors header name. */
export const DTYPE_TO_HEADER: Readonly<Record<SafeDType, string>> = { float32: 'F32', int32: 'I32' };

/** safetensors header name to tinytape dtype name. */
export const HEADER_TO_DTYPE: Readonly<Record<string, SafeDType>> = { F32: 'float32', I32: 'int32' };

/** True on little-endian hosts (all mainstream ones), where typed-array bytes can be copied as is. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Assigns `obj[key] = value` as an own property, so a tensor named `__proto__` cannot touch the prototype. */
export function defineOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
