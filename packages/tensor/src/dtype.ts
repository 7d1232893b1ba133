/** Element types a tensor can hold. Both are 4 bytes wide, so every buffer is addressed in 32-bit words. */
export type DType = 'float32' | 'int32';

/** A flat typed array of either dtype. */
export type TypedArray = Float32Array | Int32Array;

export const BYTES_PER_ELEMENT = 4;

/** Makes an empty typed array of the right class for `dtype`. */
export function typedArrayFor(dtype: DType, size: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
}

/** The dtype a typed array stores. */
export function dtypeOf(data: TypedArray): DType {
  return data instanceof Int32Array ? 'int32' : 'float32';
}
