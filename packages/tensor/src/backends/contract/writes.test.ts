// The Backend contract, writes: after any kernel writes a buffer, the next product that reads it as
// its right operand sees the new values — even where the wasm backend keeps a copy of that operand
// resident between products (a weight read at every time step). Also freeing a buffer and getting it
// back from the pool, and custom kernels (runKernel). On every backend, against the reference backend's
// triple loop on the values read back.
import { describe, expect, it } from 'vitest';
import type { Backend, BackendBuffer, MatmulParams } from '../../backend.ts';
import { defineKernel } from '../../custom-kernel.ts';
import { WRITES } from '../cpu/index.ts';
import { matmul as tripleLoop } from '../reference/matmul.ts';
import { contractBackends, expectClose, randF32, readF32, slack } from './support.ts';

const backends = await contractBackends();

// B is [K, N] = 4096 floats or more and used twice before the write: the wasm backend keeps such a B
// resident from its second use on (see wasm/wasm-matmul.ts).
const [M, K, N] = [32, 64, 64];
const SIZE = K * N;
const params: MatmulParams = { batch: 1, m: M, k: K, n: N, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };

/** y = x · 2 + 1 elementwise: a custom kernel with a version for every backend. */
const doublePlusOne = defineKernel<{ size: number }>({
  name: 'contractDoublePlusOne',
  inputs: ['x'],
  outputs: ['y'],
  writesAll: true,
  reference: ({ inputs: [x], outputs: [y], params: { size } }) => {
    for (let i = 0; i < size; i++) y![i] = x![i]! * 2 + 1;
  },
  webgpu: { body: 'y[idx] = x[idx] * 2.0 + 1.0;' },
});

type Writer = (be: Backend, b: BackendBuffer, x: BackendBuffer, indices: BackendBuffer) => void;

/** One way to write B per kernel that writes, B as the written buffer. */
const WRITERS: Record<string, Writer> = {
  fill: (be, b) => be.fill(b, SIZE, 0.5, 'float32'),
  unary: (be, b, x) => be.unary('neg', x, b, SIZE),
  scalar: (be, b, x) => be.scalar('mul', x, 3, b, SIZE),
  binary: (be, b, x) => be.binary('add', x, x, b, { size: SIZE, outShape: [SIZE], aStrides: [1], bStrides: [1] }),
  binaryInPlace: (be, b, x) => be.binaryInPlace('mul', b, x, { size: SIZE, outShape: [SIZE], aStrides: [1], bStrides: [1] }),
  axpy: (be, b, x) => be.axpy(b, x, -2, SIZE),
  matmul: (be, b, x) => be.matmul(x, x, b, { batch: 1, m: K, n: N, k: K, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 }),
  reduce: (be, b, x) => be.reduce('sum', x, b, { outer: SIZE / 2, axis: 2, inner: 1 }),
  argmax: (be, b, x) => be.argmax(x, b, { outer: 8, axis: SIZE / 8, inner: 1 }),
  copy: (be, b, x) => be.copy(x, b, { size: SIZE / 2, shape: [SIZE / 2], srcStrides: [2], dstStrides: [1], srcOffset: 1, dstOffset: SIZE / 4 }),
  gather: (be, b, x, idx) => be.gather(x, idx, b, { numIndices: 4, tableRows: K, rowSize: N }),
  scatterAdd: (be, b, x, idx) => be.scatterAdd(x, idx, b, { numIndices: 4, tableRows: K, rowSize: N }),
  oneHot: (be, b, _x, idx) => be.oneHot(idx, b, 4, N),
  softmax: (be, b, x) => be.softmax(x, b, K, N, false),
  crossEntropy: (be, b, x, idx) => be.crossEntropy(x, idx, b, 4, N),
  crossEntropyBackward: (be, b, x, idx) => be.crossEntropyBackward(x, idx, x, b, 4, N),
  cast: (be, b, x) => be.cast(x, b, SIZE, 'float32', 'float32'),
  runKernel: (be, b, x) => be.runKernel(doublePlusOne, [x], [b], [SIZE], { size: SIZE }),
};

it('every kernel that writes has a writer case (the wasm backend stamps the writes of each)', () => {
  expect(Object.keys(WRITERS).sort()).toEqual([...Object.keys(WRITES), 'runKernel'].sort());
});

describe.each(backends.map((be) => [be.name, be] as const))('writes on %s', (_name, be) => {
  /** The product A·B on `be`, compared with the triple loop on the values A and B hold now. */
  async function expectProduct(a: BackendBuffer, b: BackendBuffer): Promise<void> {
    const c = be.alloc(M * N, 'float32');
    be.matmul(a, b, c, params);
    const want = new Float32Array(M * N);
    const bValues = await readF32(be, b, SIZE);
    tripleLoop(await readF32(be, a, M * K), bValues, want, params);
    // float32 sums of K terms, |a| <= 2: allow rounding relative to the largest term's size.
    const largest = bValues.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(await readF32(be, c, M * N), want, 1e-5 * slack(be), 1e-6 * slack(be) * K * 2 * largest);
    be.free(c);
  }

  it.each(Object.entries(WRITERS))('the next product sees a write by %s', async (_kernel, write) => {
    const a = be.upload(randF32(M * K, 3));
    const b = be.upload(randF32(SIZE, 4));
    const x = be.upload(randF32(SIZE, 5, 0.5, 1.5));
    const indices = be.upload(Int32Array.from([3, 0, 7, 3]));
    await expectProduct(a, b);
    await expectProduct(a, b); // b may be resident from here on
    const before = await readF32(be, b, SIZE);
    write(be, b, x, indices);
    const after = await readF32(be, b, SIZE);
    expect(after, 'the writer changed b').not.toEqual(before);
    await expectProduct(a, b);
    for (const t of [a, b, x, indices]) be.free(t);
  });

  it('a freed B handed out again, by alloc or by upload, is not mistaken for the old one', async () => {
    const a = be.upload(randF32(M * K, 6));
    for (const reuse of ['alloc', 'upload'] as const) {
      const b = be.upload(randF32(SIZE, 7));
      await expectProduct(a, b);
      await expectProduct(a, b);
      be.free(b);
      const again = reuse === 'alloc' ? be.alloc(SIZE, 'float32') : be.upload(randF32(SIZE, 8));
      await expectProduct(a, again);
      be.free(again);
    }
    be.free(a);
  });

  it('runs a custom kernel: every output element written from its inputs', async () => {
    const values = randF32(1000, 9);
    const x = be.upload(values);
    const y = be.alloc(1000, 'float32');
    be.runKernel(doublePlusOne, [x], [y], [1000], { size: 1000 });
    expectClose(await readF32(be, y, 1000), Array.from(values, (v) => v * 2 + 1), 1e-6);
    for (const t of [x, y]) be.free(t);
  });
});
