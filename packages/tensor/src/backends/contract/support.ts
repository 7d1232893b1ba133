/**
 * What the Backend contract suite shares: the backends under test (reference, wasm and, when there is
 * an adapter, webgpu — required under CI), seeded inputs, the comparison with a tolerance, and
 * `againstReference`, which runs one kernel call on a backend and on the reference backend.
 *
 * Each test file of the suite runs its cases on every backend. The plain-loop reference is held to
 * oracles written in the test itself (nested loops in double precision, or exact expected values);
 * every backend is also compared with the reference on the same inputs.
 */
import { afterAll, expect } from 'vitest';
import type { Backend, BackendBuffer, BroadcastLayout } from '../../backend.ts';
import type { DType, TypedArray } from '../../dtype.ts';
import { createWasmBackend } from '../cpu/index.ts';
import { createReferenceBackend } from '../reference/index.ts';
import type { WebGPUBackend } from '../webgpu/index.ts';
import { requireWebGPU } from '../webgpu/test-support.ts';
import { rng } from '../../test-random.ts';

/** The oracle every other backend is compared with. */
export const referenceBackend: Backend = createReferenceBackend();

/**
 * The backends under test, reference first. Call once per test file (top-level await): it opens a
 * WebGPU device, which the file's afterAll destroys after checking it reported no errors.
 */
export async function contractBackends(): Promise<Backend[]> {
  const gpu: WebGPUBackend | null = await requireWebGPU();
  afterAll(() => {
    if (gpu === null) return;
    expect(gpu.errors).toEqual([]);
    gpu.destroy();
  });
  return gpu === null ? [referenceBackend, createWasmBackend()] : [referenceBackend, createWasmBackend(), gpu];
}

/**
 * How much looser a backend's results may be than the CPU's: WGSL's exp, log, tanh and pow are
 * accurate to a few float32 ulps rather than correctly rounded, and its reductions sum in float32.
 */
export const slack = (be: Backend): number => (be.name === 'webgpu' ? 10 : 1);

export function randF32(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

export function randI32(n: number, seed: number, lo: number, hi: number): Int32Array {
  const r = rng(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor((hi - lo) * r());
  return a;
}

export const prod = (s: readonly number[]): number => s.reduce((p, q) => p * q, 1);

export function contiguousStrides(shape: readonly number[]): number[] {
  const st: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d]!;
  }
  return st;
}

/** Multi-index of flat position `flat` in row-major `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return idx;
}

/** NumPy broadcasting of a op b (shapes right-aligned): the out shape and 0-strides on broadcast axes. */
export function layoutOf(aShape: number[], bShape: number[]): BroadcastLayout & { pa: number[]; pb: number[] } {
  const rank = Math.max(aShape.length, bShape.length);
  const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const pa = pad(aShape);
  const pb = pad(bShape);
  const outShape = pa.map((n, i) => Math.max(n, pb[i]!));
  const strides = (s: number[]): number[] => {
    const c = contiguousStrides(s);
    return s.map((n, i) => (n === 1 && outShape[i] !== 1 ? 0 : c[i]!));
  };
  return { outShape, aStrides: strides(pa), bStrides: strides(pb), size: prod(outShape), pa, pb };
}

/**
 * Element-by-element comparison, |actual − expected| <= atol + rtol·|expected| (NaN must meet NaN);
 * names the first mismatch.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = rtol): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) expect.fail(`element ${i}: got ${a}, expected NaN`);
      continue;
    }
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      expect.fail(`element ${i} of ${expected.length}: got ${a}, expected ${e} (diff ${Math.abs(a - e)})`);
    }
  }
}

/** Reads a float32 / int32 buffer back from `be`. */
export const readF32 = async (be: Backend, buf: BackendBuffer, size: number): Promise<Float32Array> =>
  (await be.read(buf, 'float32', size)) as Float32Array;
export const readI32 = async (be: Backend, buf: BackendBuffer, size: number): Promise<Int32Array> =>
  (await be.read(buf, 'int32', size)) as Int32Array;

/** An output of a kernel call: its size and dtype, and the values it starts with (zeros otherwise). */
export type OutSpec = { size: number; dtype: DType; init?: TypedArray };
export const f32 = (size: number): OutSpec => ({ size, dtype: 'float32' });
export const i32 = (size: number): OutSpec => ({ size, dtype: 'int32' });

/**
 * Runs `kernel` on the reference backend and on `be` with the same inputs (uploaded) and outputs
 * (allocated, or uploaded from `init`), reads every output back and frees everything:
 * [reference results, `be`'s results].
 */
export async function againstReference(
  be: Backend,
  inputs: TypedArray[],
  outs: OutSpec[],
  kernel: (be: Backend, ins: BackendBuffer[], outs: BackendBuffer[]) => void,
): Promise<[TypedArray[], TypedArray[]]> {
  const results: TypedArray[][] = [];
  for (const backend of [referenceBackend, be]) {
    const ins = inputs.map((x) => backend.upload(x));
    const os = outs.map((o) => (o.init ? backend.upload(o.init) : backend.alloc(o.size, o.dtype)));
    kernel(backend, ins, os);
    results.push(await Promise.all(os.map((b, i) => backend.read(b, outs[i]!.dtype, outs[i]!.size))));
    for (const b of [...ins, ...os]) backend.free(b);
  }
  return [results[0]!, results[1]!];
}
