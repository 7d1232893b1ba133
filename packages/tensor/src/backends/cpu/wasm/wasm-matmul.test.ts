import { describe, expect, it } from 'vitest';
import type { MatmulParams } from '../../../backend.ts';
import { matmul } from '../../reference/matmul.ts';
import { DEFAULT_KERNEL_SHAPE, type KernelShape, buildMatmulModule } from './matmul-module.ts';
import {
  CHUNK_K, THREAD_MIN_MACS, WASM_MIN_MACS, backendKernelShape, createWasmMatmul, tryWasmMatmul, wasmFmaAvailable, wasmMatmul,
  wasmSimdAvailable,
} from './wasm-matmul.ts';
import { type Label, ModuleBuilder, signedLeb128, unsignedLeb128 } from './wasm-writer.ts';
import { rng } from '../../../test-random.ts';

// The project's TypeScript lib has no WebAssembly declarations (they live in lib.dom), so the few
// calls the tests make directly are typed here.
const WA = (globalThis as unknown as {
  WebAssembly: {
    validate(bytes: Uint8Array): boolean;
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: object) => { exports: object };
  };
}).WebAssembly;

// The wasm kernels are checked against the reference backend's triple loop (reference/matmul.ts),
// itself tested by the backend contract suite. The wasm kernels accumulate in float32 and the loop in
// doubles, so they agree only up to float32 rounding of a k-term sum: |wasm - ts| is allowed
// 1e-6·k·Σ|a·b| per element, where Σ|a·b| (the same product over absolute values) bounds every
// partial sum and so the rounding error; 1e-6 is about 16 float32 epsilons.

function randF32(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => 4 * r() - 2);
}

const params = (m: number, k: number, n: number, transA = false, transB = false): MatmulParams =>
  ({ batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 });

/** How many floats the operands of `p` span, including every batch entry. */
function operandSizes(p: MatmulParams): { a: number; b: number; c: number } {
  const span = (stride: number, size: number): number => (p.batch - 1) * stride + size;
  return { a: span(p.aBatchStride, p.m * p.k), b: span(p.bBatchStride, p.k * p.n), c: p.batch * p.m * p.n };
}

type Kernel = (A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams) => boolean;

/**
 * Runs `kernel` on random operands and compares with the reference triple loop. C starts as NaN so an element
 * the kernel failed to write shows up, and has a tail of sentinels that must stay untouched.
 */
function checkAgainstTs(kernel: Kernel, p: MatmulParams, seed: number): void {
  const sizes = operandSizes(p);
  const A = randF32(sizes.a, seed);
  const B = randF32(sizes.b, seed + 1);
  const expected = new Float32Array(sizes.c);
  matmul(A, B, expected, p);
  const scale = new Float32Array(sizes.c);
  matmul(A.map(Math.abs), B.map(Math.abs), scale, p);

  const C = new Float32Array(sizes.c + 5).fill(Number.NaN);
  C.fill(7, sizes.c);
  expect(kernel(A, B, C, p)).toBe(true);
  const label = JSON.stringify(p);
  for (let i = 0; i < sizes.c; i++) {
    const err = Math.abs(C[i]! - expected[i]!);
    if (!(err <= 1e-6 * p.k * scale[i]!)) {
      expect.fail(`${label} index ${i}: got ${C[i]}, expected ${expected[i]} (|diff| ${err})`);
    }
  }
  expect(Array.from(C.subarray(sizes.c)), `${label} wrote past the output`).toEqual([7, 7, 7, 7, 7]);
}

const COMBOS = [[false, false], [true, false], [false, true], [true, true]] as const;
const ODD = [1, 3, 5, 33, 257];

describe('wasm writer', () => {
  it('encodes LEB128', () => {
    expect(unsignedLeb128(0)).toEqual([0x00]);
    expect(unsignedLeb128(127)).toEqual([0x7f]);
    expect(unsignedLeb128(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(unsignedLeb128(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(signedLeb128(0)).toEqual([0x00]);
    expect(signedLeb128(63)).toEqual([0x3f]);
    expect(signedLeb128(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb128(-1)).toEqual([0x7f]);
    expect(signedLeb128(-64)).toEqual([0x40]);
    expect(signedLeb128(-65)).toEqual([0xbf, 0x7f]);
    expect(signedLeb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb128(-0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
    expect(() => unsignedLeb128(-1)).toThrow(RangeError);
    expect(() => signedLeb128(2 ** 31)).toThrow(RangeError);
  });

  it('emits modules the engine accepts and runs', () => {
    // sum(n) = 0 + 1 + ... + (n-1), with a counted loop and a branch out of a block.
    const mod = new ModuleBuilder(1);
    mod.addFunction('sum', ['i32'], ['i32'], (f) => {
      const i = f.local('i32');
      const acc = f.local('i32');
      f.block((done) => {
        f.loop((top) => {
          f.get(i).get(0).i32LtU().i32Eqz().brIf(done);
          f.get(acc).get(i).i32Add().set(acc);
          f.get(i).i32Const(1).i32Add().set(i);
          f.br(top);
        });
      });
      f.get(acc);
    });
    const bytes = mod.toBytes();
    expect(WA.validate(bytes)).toBe(true);
    const { sum } = new WA.Instance(new WA.Module(bytes), {}).exports as { sum: (n: number) => number };
    expect(sum(10)).toBe(45);
    expect(sum(0)).toBe(0);
  });

  it('rejects a branch to a label that is not open', () => {
    const mod = new ModuleBuilder(1);
    expect(() => mod.addFunction(null, [], [], (f) => {
      let closed: Label | undefined;
      f.block((l) => {
        closed = l;
      });
      f.br(closed!);
    })).toThrow(/not open/);
  });
});

describe('wasm matmul', () => {
  it('finds WebAssembly SIMD in this Node', () => {
    expect(wasmSimdAvailable()).toBe(true);
    expect(WA.validate(buildMatmulModule())).toBe(true);
  });

  it.each(COMBOS)('matches the reference loop on odd shapes, transA=%s transB=%s', (transA, transB) => {
    let seed = 1;
    for (const m of ODD) for (const k of ODD) for (const n of ODD) {
      checkAgainstTs(wasmMatmul, params(m, k, n, transA, transB), seed++);
    }
  });

  it.each(COMBOS)('handles k = 0 and empty outputs, transA=%s transB=%s', (transA, transB) => {
    const C = new Float32Array(6).fill(9);
    expect(wasmMatmul(new Float32Array(0), new Float32Array(0), C, params(2, 0, 3, transA, transB))).toBe(true);
    expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);
    checkAgainstTs(wasmMatmul, params(0, 5, 3, transA, transB), 1);
    checkAgainstTs(wasmMatmul, params(3, 5, 0, transA, transB), 1);
  });

  // Batch strides: both batched, A shared (stride 0), B shared (which, with A back to back, runs as
  // one product of batch·m rows), and A batches spaced wider than one matrix. [64, 17, 128] takes the
  // padded-rows copies of B (and of A with transA).
  const batchCases = COMBOS.flatMap(([transA, transB]) => [
    [transA, transB, 1, 1, 0],
    [transA, transB, 0, 1, 0],
    [transA, transB, 1, 0, 0],
    [transA, transB, 1, 0, 11],
  ] as const);
  it.each(batchCases)('batched, transA=%s transB=%s, A batched=%i B batched=%i A gap=%i', (transA, transB, aB, bB, gap) => {
    for (const [m, k, n] of [[5, 7, 3], [33, 5, 9], [4, 33, 8], [64, 17, 128]] as const) {
      const p: MatmulParams = {
        batch: 3, m, k, n, transA, transB, aBatchStride: aB * (m * k + gap), bBatchStride: bB * k * n,
      };
      checkAgainstTs(wasmMatmul, p, m + k + n);
    }
  });

  // The shapes of the d2l char-RNN (batch 32, 35 steps, hidden 512, vocabulary 28), forward and backward.
  const rnnShapes: [string, number, number, number, boolean, boolean][] = [
    ['[32,512] x [512,512]', 32, 512, 512, false, false],
    ['[512,32]ᵀ x [32,512]', 512, 32, 512, true, false],
    ['[32,512] x [512,512]ᵀ', 32, 512, 512, false, true],
    ['[1120,512] x [512,28]', 1120, 512, 28, false, false],
    ['[1120,512] x [28,512]ᵀ', 1120, 512, 28, false, true],
    ['[32,28] x [28,512]', 32, 28, 512, false, false],
    ['[32,28] x [512,28]ᵀ', 32, 28, 512, false, true],
    ['[512,1120]ᵀ x [1120,28]', 512, 1120, 28, true, false],
    ['[512,32]ᵀ x [512,32]ᵀ', 32, 512, 32, true, true],
  ];
  it.each(rnnShapes)('matches the reference loop at %s', (_, m, k, n, transA, transB) => {
    checkAgainstTs(wasmMatmul, params(m, k, n, transA, transB), m * k + n);
  });

  // A contraction longer than CHUNK_K is packed and multiplied in chunks, all but the first
  // accumulating into C; the chunks must cover k exactly, also when k does not divide evenly.
  it.each(COMBOS)('long contractions run in chunks and still match, transA=%s transB=%s', (transA, transB) => {
    let seed = 900;
    for (const k of [CHUNK_K + 1, 2 * CHUNK_K + 3, 1120]) {
      for (const [m, n] of [[9, 13], [33, 70]] as const) checkAgainstTs(wasmMatmul, params(m, k, n, transA, transB), seed++);
    }
  });

  it.each([false, true])('accumulates over chunks into what C held, transB=%s', (transB) => {
    const [m, k, n] = [12, 2 * CHUNK_K + 7, 20];
    const p = { ...params(m, k, n, false, transB), accumulate: true };
    const A = randF32(m * k, 31);
    const B = randF32(k * n, 32);
    const start = randF32(m * n, 33);
    const product = new Float32Array(m * n);
    matmul(A, B, product, params(m, k, n, false, transB));
    const C = start.slice();
    expect(wasmMatmul(A, B, C, p)).toBe(true);
    for (let i = 0; i < m * n; i++) expect(C[i]!).toBeCloseTo(start[i]! + product[i]!, 3);
  });

  it('computes a tall, narrow Aᵀ·B (a weight gradient against a small vocabulary) through its transpose', () => {
    // n ≤ 32 columns, m ≥ 4n rows, k ≥ 64: run as (Bᵀ·A)ᵀ (see narrowTransposed), also accumulating.
    let seed = 950;
    for (const [m, k, n] of [[512, 1120, 28], [129, 64, 1], [200, 300, 32]] as const) {
      checkAgainstTs(wasmMatmul, params(m, k, n, true, false), seed++);
      const A = randF32(k * m, seed++);
      const B = randF32(k * n, seed++);
      const start = randF32(m * n, seed++);
      const product = new Float32Array(m * n);
      matmul(A, B, product, params(m, k, n, true, false));
      const C = start.slice();
      expect(wasmMatmul(A, B, C, { ...params(m, k, n, true, false), accumulate: true })).toBe(true);
      for (let i = 0; i < m * n; i++) expect(C[i]!).toBeCloseTo(start[i]! + product[i]!, 3);
    }
  });

  it('is deterministic, also after growing its memory', () => {
    const p = params(33, 65, 17);
    const A = randF32(33 * 65, 3);
    const B = randF32(65 * 17, 4);
    const first = new Float32Array(33 * 17);
    const again = new Float32Array(33 * 17);
    const kernel = createWasmMatmul();
    expect(kernel).not.toBeNull();
    kernel!(A, B, first, p);
    // A product far larger than anything before grows the memory, detaching the old view.
    const big = params(600, 700, 300);
    expect(kernel!(randF32(600 * 700, 5), randF32(700 * 300, 6), new Float32Array(600 * 300), big)).toBe(true);
    kernel!(A, B, again, p);
    expect(Array.from(again)).toEqual(Array.from(first));
  });

  // Other block shapes exercise the generator's loops and edge blocks (they are not what the backend
  // runs): wider and narrower blocks, unrolling with a remainder, the other loop order.
  const shapes: KernelShape[] = [
    { rows: 3, vecs: 3, unroll: 2, dotRows: 1, dotUnroll: 2, columnsOuter: false, fma: false },
    { rows: 1, vecs: 1, unroll: 4, dotRows: 3, dotUnroll: 1, columnsOuter: true, fma: false },
    { ...DEFAULT_KERNEL_SHAPE, columnsOuter: !DEFAULT_KERNEL_SHAPE.columnsOuter },
    // The fused multiply-add kernels (what the backend runs where relaxed SIMD exists), in both loop orders.
    ...(wasmFmaAvailable() ? [{ ...DEFAULT_KERNEL_SHAPE, fma: true }, { ...DEFAULT_KERNEL_SHAPE, fma: true, columnsOuter: false, rows: 3, dotRows: 3 }] : []),
  ];
  it.each(shapes)('other kernel shapes agree too: %o', (shape) => {
    const kernel = createWasmMatmul(shape)!;
    let seed = 100;
    for (const [transA, transB] of COMBOS) {
      for (const [m, k, n] of [[1, 1, 1], [7, 9, 13], [10, 33, 6], [5, 3, 17]] as const) {
        checkAgainstTs(kernel, params(m, k, n, transA, transB), seed++);
      }
    }
  });
});

describe('fused multiply-add', () => {
  it('is on in Node: relaxed SIMD validates (turned on at run time in Node 20) and the backend uses it', () => {
    const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    if (node === undefined || !wasmSimdAvailable()) throw new Error('these tests run in Node with WebAssembly SIMD');
    expect(wasmFmaAvailable()).toBe(true);
    expect(backendKernelShape().fma).toBe(true);
  });

  it('rounds once per multiply-add: it differs from the mul-then-add kernels in the last bits only', () => {
    if (!wasmFmaAvailable()) throw new Error('no relaxed SIMD here');
    const fused = createWasmMatmul({ ...DEFAULT_KERNEL_SHAPE, fma: true })!;
    const plain = createWasmMatmul({ ...DEFAULT_KERNEL_SHAPE, fma: false })!;
    const p = params(16, 300, 24);
    const A = randF32(16 * 300, 41);
    const B = randF32(300 * 24, 42);
    const a = new Float32Array(16 * 24);
    const b = new Float32Array(16 * 24);
    fused(A, B, a, p);
    plain(A, B, b, p);
    // Different kernels (so the FMA instruction was really emitted), agreeing to float32 rounding.
    expect(Array.from(a)).not.toEqual(Array.from(b));
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4 * (Math.abs(b[i]!) + 1));
  });
});

describe('tryWasmMatmul', () => {
  // Products on either side of the threshold, the same shape but one step of k apart: the one below
  // must be refused with C untouched, the one at the threshold taken and computed.
  const at = (k: number) => params(1, k, 1);

  it('leaves a product one multiply-add below the threshold to the reference loop, writing nothing', () => {
    if (!wasmSimdAvailable()) throw new Error('these tests need WebAssembly SIMD (Node 20 has it)');
    const k = WASM_MIN_MACS - 1;
    const C = new Float32Array([5]);
    expect(tryWasmMatmul(randF32(k, 1), randF32(k, 2), C, at(k))).toBe(false);
    expect(C[0]).toBe(5);
  });

  it('takes a product of exactly the threshold and computes it', () => {
    const k = WASM_MIN_MACS;
    const [A, B] = [randF32(k, 1), randF32(k, 2)];
    const C = new Float32Array([5]);
    expect(tryWasmMatmul(A, B, C, at(k))).toBe(true);
    const want = new Float32Array(1);
    matmul(A, B, want, at(k));
    expect(C[0]).toBeCloseTo(want[0]!, 3);
  });
});

describe('two threads', () => {
  it('a helper thread takes a share of the rows; the results equal the single-thread kernels bit for bit', async () => {
    const threaded = createWasmMatmul(backendKernelShape(), { threads: 2 });
    const single = createWasmMatmul(backendKernelShape(), { threads: 1 });
    expect(threaded?.helperReady).toBeDefined();
    expect(single?.helperReady).toBeUndefined();
    // The worker starts asynchronously; until it is ready the instance runs on this thread alone.
    for (let i = 0; i < 100 && !threaded!.helperReady!(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(threaded!.helperReady!()).toBe(true);
    let seed = 500;
    // Above THREAD_MIN_MACS, with row counts that split evenly and unevenly into blocks, and n not a
    // multiple of 4 (padded C rows), in every transpose case, overwriting and accumulating. Products
    // with fewer than 64 rows split their columns instead (the last two shapes), outer-product ones only.
    for (const [m, k, n] of [[96, 512, 512], [1120, 64, 28], [70, 260, 259], [66, 1024, 130], [32, 512, 512], [16, 300, 258]] as const) {
      expect(m * k * n).toBeGreaterThanOrEqual(THREAD_MIN_MACS);
      for (const [transA, transB] of COMBOS) {
        for (const accumulate of [false, true]) {
          const p = { ...params(m, k, n, transA, transB), accumulate };
          const A = randF32(m * k, seed++);
          const B = randF32(k * n, seed++);
          const start = randF32(m * n, seed++);
          const got = start.slice();
          const want = start.slice();
          expect(threaded!(A, B, got, p)).toBe(true);
          expect(single!(A, B, want, p)).toBe(true);
          expect(got).toEqual(want);
        }
      }
    }
  });
});
