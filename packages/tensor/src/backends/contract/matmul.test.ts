// The Backend contract, matmul: every transpose case, odd sizes that hit the ragged edges of tiles,
// batches with broadcast operands, accumulation and k = 0, on every backend (and on WebGPU with each of
// its two kernels) — against the textbook sum written here, and against the reference backend.
import { describe, expect, it } from 'vitest';
import type { Backend, MatmulParams } from '../../backend.ts';
import type { WebGPUBackend } from '../webgpu/index.ts';
import { againstReference, contractBackends, expectClose, f32, randF32, readF32, slack } from './support.ts';

const backends = await contractBackends();

/** out[b][i][j] = Σ_q op(A)[i][q]·op(B)[q][j], reading A and B by their stored layouts, in doubles. */
function oracle(a: Float32Array, b: Float32Array, p: MatmulParams): Float64Array {
  const { batch, m, k, n, transA, transB, aBatchStride, bBatchStride } = p;
  const out = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = transA ? a[bi * aBatchStride + q * m + i]! : a[bi * aBatchStride + i * k + q]!;
          const bv = transB ? b[bi * bBatchStride + j * k + q]! : b[bi * bBatchStride + q * n + j]!;
          s += av * bv;
        }
        out[bi * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

const COMBOS = [[false, false], [true, false], [false, true], [true, true]] as const;
const DIMS: [number, number, number][] = [
  [1, 1, 1], [3, 5, 7], [4, 4, 4], [5, 3, 9], [8, 33, 12], [33, 17, 6], [1, 64, 33], [13, 1, 5], [36, 20, 28], [33, 17, 65],
  [64, 64, 64], [130, 70, 129],
  // 4 x 5 tiles of 64 on WebGPU: batch 1 runs the 32x32 tile, larger batches the 64x64 tile.
  [197, 19, 259],
];

/** The backends, with WebGPU once per matmul kernel it can run. */
const variants: [string, Backend, (() => void) | null][] = backends.flatMap((be): [string, Backend, (() => void) | null][] => {
  if (be.name !== 'webgpu') return [[be.name, be, null]];
  const gpu = be as WebGPUBackend;
  return (['tiled', 'registers'] as const).map((kernel) => [`webgpu (${kernel} kernel)`, be, () => (gpu.matmulKernel = kernel)]);
});

describe.each(variants)('matmul on %s', (_name, be, select) => {
  const tol = 2e-5 * slack(be);
  const run = async (a: Float32Array, b: Float32Array, p: MatmulParams, init?: Float32Array) => {
    select?.();
    const size = p.batch * p.m * p.n;
    return againstReference(be, [a, b], [init ? { size, dtype: 'float32', init } : f32(size)], (k, [x, y], [o]) => k.matmul(x, y, o, p));
  };

  const cases = DIMS.flatMap(([m, k, n]) => COMBOS.map(([ta, tb]) => [m, k, n, ta, tb] as const));
  it.each(cases)('[%i x %i] @ [.. x %i] transA=%s transB=%s overwrites out', async (m, k, n, transA, transB) => {
    const p: MatmulParams = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 };
    const a = randF32(m * k, m * 31 + k);
    const b = randF32(k * n, n * 17 + k);
    const [[ref], [got]] = await run(a, b, p, new Float32Array(m * n).fill(123));
    expectClose(ref!, oracle(a, b, p), 1e-5);
    expectClose(got!, ref!, tol);
  });

  const batchCases = COMBOS.flatMap(([ta, tb]) => [[true, true], [false, true], [true, false]].map(([sa, sb]) => [ta, tb, sa!, sb!] as const));
  it.each(batchCases)('batched x3, transA=%s transB=%s, a batched=%s b batched=%s', async (transA, transB, aB, bB) => {
    for (const [m, k, n] of [[6, 7, 5], [33, 17, 65]] as const) {
      const batch = 3;
      const p: MatmulParams = { batch, m, k, n, transA, transB, aBatchStride: aB ? m * k : 0, bBatchStride: bB ? k * n : 0 };
      const a = randF32((aB ? batch : 1) * m * k, 11);
      const b = randF32((bB ? batch : 1) * k * n, 12);
      const [[ref], [got]] = await run(a, b, p);
      expectClose(ref!, oracle(a, b, p), 1e-5);
      expectClose(got!, ref!, tol);
    }
  });

  it.each(COMBOS)('accumulate adds the product to what out held (transA=%s transB=%s)', async (transA, transB) => {
    for (const [m, k, n] of [[2, 3, 2], [33, 40, 28], [64, 300, 33]] as const) {
      const p: MatmulParams = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0, accumulate: true };
      const a = randF32(m * k, 41);
      const b = randF32(k * n, 42);
      const start = randF32(m * n, 43);
      const [[ref], [got]] = await run(a, b, p, start);
      const product = oracle(a, b, p);
      expectClose(ref!, Array.from(start, (v, i) => v + product[i]!), 1e-5);
      expectClose(got!, ref!, tol);
    }
  });

  it('k = 0 gives zeros, overwriting what was in out', async () => {
    select?.();
    const out = be.alloc(6, 'float32');
    be.fill(out, 6, 9, 'float32');
    const p: MatmulParams = { batch: 1, m: 2, k: 0, n: 3, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
    be.matmul(be.alloc(0, 'float32'), be.alloc(0, 'float32'), out, p);
    expect(Array.from(await readF32(be, out, 6))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
