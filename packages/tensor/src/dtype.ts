import { DTypeError } from './errors.ts';
/** Element types a tensor can hold. Both are 4 bytes wide, so every buffer is addressed in 32-bit words. */
export type DType = 'float32' | 'int32';

/** A flat typed array of either dtype. */
export type TypedArray = Float32Array | Int32Array;

export const BYTES_PER_ELEMENT = 4;

/** Makes an empty typed array of the right class for `dtype`. */
export function typedArrayFor(dtype: DType, size: number): TypedArray {
  checkDtype(dtype);
  return dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
}

/**
 * Throws a DTypeError for anything but 'float32' and 'int32': TypeScript rules other strings out, but
 * plain JavaScript callers can pass 'float64' and would otherwise get int32 storage without a word.
 */
export function checkDtype(dtype: unknown): asserts dtype is DType {
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new DTypeError(`unknown dtype ${JSON.stringify(dtype)}: tinytape tensors are 'float32' or 'int32'`);
  }
}

/** The dtype a typed array stores. */
export function dtypeOf(data: TypedArray): DType {
  return data instanceof Int32Array ? 'int32' : 'float32';
}
