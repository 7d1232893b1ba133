import { type Device, cpu } from '../device.ts';
import { type DType, type TypedArray, typedArrayFor } from '../dtype.ts';
import { ShapeError, ValueError, fmtShape } from '../errors.ts';
import { type Generator, defaultGenerator } from '../random.ts';
import { checkShape, sizeOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, uploadTensor } from './util.ts';

export interface CreateOptions {
  dtype?: DType;
  /** Defaults to the CPU. */
  device?: Device;
  /** Make the result a leaf that collects gradients. */
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** Source of randomness; defaults to the global generator (see `manualSeed`). */
  generator?: Generator;
}

export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * A tensor from nested arrays, a flat array with `shape`, or a typed array (`torch.tensor`).
 * The dtype follows a typed array, else defaults to float32.
 */
export function tensor(
  data: NestedNumbers | TypedArray | readonly number[],
  opts: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  let flat: number[] | TypedArray;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as TypedArray;
    shape = opts.shape ? checkShape('tensor', opts.shape) : [flat.length];
  } else {
    const inferred = inferNestedShape(data);
    flat = flattenNested(data, inferred);
    shape = opts.shape ? checkShape('tensor', opts.shape) : inferred;
  }
  if (sizeOf(shape) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(shape)}`);
  }
  const dtype = opts.dtype ?? (flat instanceof Int32Array ? 'int32' : 'float32');
  const typed = typedArrayFor(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (dtype === 'int32' && !Number.isInteger(v)) throw new ValueError(`tensor: int32 data holds a non-integer ${v}`);
    typed[i] = v;
  }
  return finish(uploadTensor(opts.device ?? cpu(), shape, typed), opts);
}

/** Zeros of the given shape. */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return finish(allocTensor(opts.device ?? cpu(), checkShape('zeros', shape), opts.dtype ?? 'float32'), opts);
}

/** Ones of the given shape. */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  if (Number.isNaN(value) && dtype === 'int32') throw new ValueError('full: NaN cannot be stored as int32');
  const t = allocTensor(opts.device ?? cpu(), checkShape('full', shape), dtype);
  if (value !== 0) t.device.backend.fill(t.buffer('full'), t.size, value, dtype);
  return finish(t, opts);
}

/** Zeros with the shape, dtype and device of `t`. */
export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype, device: t.device });
}

/** Ones with the shape, dtype and device of `t`. */
export function onesLike(t: Tensor): Tensor {
  return ones(t.shape, { dtype: t.dtype, device: t.device });
}

/**
 * Evenly spaced values in [start, stop) (`torch.arange`). With one argument it counts from 0.
 * int32 when every argument is an integer, as PyTorch gives an integer tensor; float32 otherwise.
 */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a non-zero finite number, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ValueError(`arange: bounds must be finite, got ${start}, ${stop}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dtype = opts.dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  const data = typedArrayFor(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(uploadTensor(opts.device ?? cpu(), [n], data), opts);
}

/**
 * Normally distributed float32 values with the given mean and standard deviation (`torch.normal`).
 * Drawn on the host from a seedable generator, so the same seed gives the same tensor on every device.
 */
export function normal(mean: number, std: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!(std >= 0) || !Number.isFinite(std)) throw new ValueError(`normal: std must be a finite number >= 0, got ${std}`);
  const size = sizeOf(checkShape('normal', shape));
  const gen = opts.generator ?? defaultGenerator();
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = mean + std * gen.nextNormal();
  return finish(uploadTensor(opts.device ?? cpu(), shape, data), opts);
}

/** Standard normal values (`torch.randn`), or with `mean`/`std` options. */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return normal(opts.mean ?? 0, opts.std ?? 1, shape, opts);
}

/** Uniform float32 values in [low, high) (`torch.rand` scaled). */
export function uniform(shape: readonly number[], low = 0, high = 1, opts: RandomOptions = {}): Tensor {
  if (!(high >= low)) throw new ValueError(`uniform: need low <= high, got [${low}, ${high})`);
  const size = sizeOf(checkShape('uniform', shape));
  const gen = opts.generator ?? defaultGenerator();
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = low + (high - low) * gen.nextFloat();
  return finish(uploadTensor(opts.device ?? cpu(), shape, data), opts);
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) {
    if (t.dtype !== 'float32') throw new ValueError('requiresGrad: only float32 tensors can collect gradients');
    t.requiresGrad = true;
  }
  return t;
}

function inferNestedShape(data: NestedNumbers | readonly number[]): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  if (level !== undefined && typeof level !== 'number') {
    throw new ValueError(`tensor: data must be numbers or nested arrays of numbers, found ${typeof level}`);
  }
  return shape;
}

function flattenNested(data: NestedNumbers | readonly number[], shape: readonly number[]): number[] {
  const out: number[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') throw new ShapeError(`tensor: ragged nested array (expected shape ${fmtShape(shape)})`);
      out.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new ShapeError(`tensor: ragged nested array (expected shape ${fmtShape(shape)})`);
    }
    for (const child of node) walk(child, depth + 1);
  };
  walk(data, 0);
  return out;
}
