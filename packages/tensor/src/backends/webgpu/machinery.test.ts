// The WebGPU backend's machinery, beyond the Backend contract (which backends/contract/ checks on every
// backend): the adapter, buffer size classes and pooling, command batching, bind-group and pipeline
// caching, and the ordering of frees, uploads and queued kernels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BackendBuffer } from '../../backend.ts';
import { expectClose, layoutOf, randF32, referenceBackend } from '../contract/support.ts';
import { sizeClass } from './context.ts';
import type { WebGPUBackend } from './index.ts';
import { requireWebGPU } from './test-support.ts';

let gpu: WebGPUBackend | null = null;

beforeAll(async () => {
  gpu = await requireWebGPU();
});

afterAll(() => {
  if (gpu !== null) {
    expect(gpu.errors).toEqual([]);
    gpu.destroy();
  }
});

/** The backend, or skips the test when there is no adapter (requireWebGPU already warned). */
function G(ctx: { skip: () => void }): WebGPUBackend {
  if (gpu === null) ctx.skip();
  return gpu!;
}

it('reports the adapter and its name', (ctx) => {
  const g = G(ctx);
  expect(g.name).toBe('webgpu');
  expect(typeof g.adapterInfo.description).toBe('string');
  expect(g.adapterInfo.description + g.adapterInfo.device + g.adapterInfo.vendor).not.toBe('');
});


describe('memory, batching and ordering', () => {
  it('buckets sizes into classes', () => {
    expect(sizeClass(1)).toBe(16);
    expect(sizeClass(16)).toBe(16);
    expect(sizeClass(17)).toBe(32);
    expect(sizeClass(65536)).toBe(65536);
    expect(sizeClass(65537)).toBe(65536 + 8192);
    for (const b of [100, 5000, 70000, 1e6, 3e7]) {
      expect(sizeClass(b)).toBeGreaterThanOrEqual(b);
      expect(sizeClass(b)).toBeLessThan(b * 2);
    }
  });

  it('re-uses pooled buffers: alloc/free/alloc does not grow the buffer count', async (ctx) => {
    const g = G(ctx);
    g.flush();
    const a = g.alloc(1000, 'float32');
    g.free(a);
    const before = g.memory();
    const total0 = before.liveBuffers + before.pooledBuffers;
    for (let i = 0; i < 10; i++) {
      const b = g.alloc(1000, 'float32');
      const c = g.alloc(990, 'float32'); // same size class
      g.free(b);
      g.free(c);
    }
    const after = g.memory();
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.liveBuffers + after.pooledBuffers).toBeLessThanOrEqual(total0 + 1);
  });

  it('a re-used buffer still reads as zeros after alloc, even under a partial write', async (ctx) => {
    const g = G(ctx);
    const dirty = g.upload(randF32(500, 1, 1, 2));
    g.free(dirty);
    const z = g.alloc(500, 'float32');
    expect(await g.read(z, 'float32', 500)).toEqual(new Float32Array(500));
    g.free(z);
    const d2 = g.upload(randF32(500, 2, 1, 2));
    g.free(d2);
    const y = g.alloc(500, 'float32');
    const src = g.upload(Float32Array.from([7, 8]));
    g.copy(src, y, { shape: [2], srcStrides: [1], dstStrides: [1], srcOffset: 0, dstOffset: 10, size: 2 });
    const expected = new Float32Array(500);
    expected[10] = 7;
    expected[11] = 8;
    expect(await g.read(y, 'float32', 500)).toEqual(expected);
    g.free(y);
    g.free(src);
  });

  it('1,000 small dispatches, one read: right answer, few submits, one readback', async (ctx) => {
    const g = G(ctx);
    g.flush();
    const s0 = g.stats();
    const m0 = g.memory();
    const acc = g.upload(new Float32Array(33));
    const one = g.upload(new Float32Array(33).fill(1));
    for (let i = 0; i < 1000; i++) {
      // Allocate and free a temporary each step, as an unrolled RNN does.
      const t = g.alloc(33, 'float32');
      g.scalar('mul', one, 2, t, 33);
      g.axpy(acc, t, 0.5, 33);
      g.free(t);
    }
    const out = await g.read(acc, 'float32', 33);
    expect(out).toEqual(new Float32Array(33).fill(1000));
    const s1 = g.stats();
    const dispatches = s1.dispatches - s0.dispatches;
    const submits = s1.submits - s0.submits;
    expect(dispatches).toBe(2000);
    expect(submits).toBeLessThanOrEqual(Math.ceil(dispatches / 64) + 1);
    expect(s1.readbacks - s0.readbacks).toBe(1);
    // Temporaries were recycled within the batch: at most a few new buffers in all.
    const m1 = g.memory();
    expect(m1.liveBuffers + m1.pooledBuffers - (m0.liveBuffers + m0.pooledBuffers)).toBeLessThanOrEqual(4);
    g.free(acc);
    g.free(one);
  });

  it('a repeated training-like step creates no new bind groups, keeps memory flat and matches the reference backend', async (ctx) => {
    const g = G(ctx);
    g.flush();
    // Shaped like an unrolled RNN step: per-step uploads, a carried state, a weight gradient that
    // accumulates one product per time step (a pooled temporary inside matmul), temporaries freed in
    // allocation order (a LIFO pool then hands them back permuted), and one loss per step kept until
    // the end, as trainEpoch does. 5 time steps of 4 dispatches plus 3 make 23 dispatches a step, so
    // submits (every 128) fall at a different point of each step.
    const B = 4;
    const H = 24;
    const T = 5;
    const makeRun = (be: Backend) => {
      const W = be.upload(randF32(H * H, 70, -0.3, 0.3));
      const dW = be.alloc(H * H, 'float32');
      let h = be.upload(randF32(B * H, 71));
      const losses: BackendBuffer[] = [];
      const flat = { batch: 1, transB: false, aBatchStride: 0, bBatchStride: 0 };
      // z = cur·W ([B,H]x[H,H]) and dW += curᵀ·y ([H,B]x[B,H]).
      const forward = (cur: BackendBuffer, z: BackendBuffer): void => be.matmul(cur, W, z, { ...flat, m: B, k: H, n: H, transA: false });
      const gradW = (cur: BackendBuffer, y: BackendBuffer): void =>
        be.matmul(cur, y, dW, { ...flat, m: H, k: B, n: H, transA: true, accumulate: true });
      const step = (i: number): void => {
        const x = be.upload(randF32(B * H, 100 + i));
        const temps: BackendBuffer[] = [];
        let cur = h;
        for (let t = 0; t < T; t++) {
          const z = be.alloc(B * H, 'float32');
          forward(cur, z);
          const a = be.alloc(B * H, 'float32');
          be.binary('add', z, x, a, layoutOf([B, H], [B, H]));
          const y = be.alloc(B * H, 'float32');
          be.unary('tanh', a, y, B * H);
          gradW(cur, y);
          temps.push(z, a);
          if (cur !== h) temps.push(cur);
          cur = y;
        }
        const sq = be.alloc(B * H, 'float32');
        be.unary('square', cur, sq, B * H);
        const loss = be.alloc(1, 'float32');
        be.reduce('sum', sq, loss, { outer: 1, axis: B * H, inner: 1 });
        be.axpy(W, dW, -0.01, H * H);
        losses.push(loss);
        for (const t of [...temps, sq, x, h]) be.free(t);
        h = cur;
      };
      const finish = async (): Promise<Float32Array> => {
        const out = new Float32Array(losses.length);
        for (let i = 0; i < losses.length; i++) out[i] = (await be.read(losses[i]!, 'float32', 1))[0]!;
        for (const b of [...losses, W, dW, h]) be.free(b);
        return out;
      };
      return { step, finish };
    };
    const m0 = g.memory();
    const gpuRun = makeRun(g);
    const created: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = g.stats().bindGroups;
      gpuRun.step(i);
      created.push(g.stats().bindGroups - before);
      const m = g.memory();
      held.push(m.liveBuffers + m.pooledBuffers);
    }
    // The first steps make their bind groups (the set of free buffers settles over the first three: the
    // state carried in from the previous step is one of them); the later ones get the same buffers and
    // so the same groups. With LIFO reuse, most dispatches of every step made a new one (19 of 23). The
    // one exception: each step's loss is a new buffer, since the earlier losses are still held, so its
    // reduce needs a new group.
    expect(created[0]).toBeGreaterThan(15);
    expect(created.slice(3)).toEqual([1, 1, 1]);
    // No buffer piles up: from the second step on, the step's buffers come from the pool (plus one
    // 16-byte buffer for each kept loss).
    for (let i = 2; i < held.length; i++) expect(held[i]! - held[i - 1]!).toBeLessThanOrEqual(1);
    console.log(`[tinytape] bind groups created per training-like step: ${created.join(', ')}`);
    const got = await gpuRun.finish();
    const cpuRun = makeRun(referenceBackend);
    for (let i = 0; i < 6; i++) cpuRun.step(i);
    expectClose(got, await cpuRun.finish(), 1e-4, 1e-5);
    expect(g.memory().liveBuffers).toBe(m0.liveBuffers);
  });

  it('pipelines are cached: repeating an op compiles nothing new', async (ctx) => {
    const g = G(ctx);
    const x = g.upload(randF32(64, 1));
    const o = g.alloc(64, 'float32');
    g.unary('exp', x, o, 64);
    const p0 = g.stats().pipelines;
    for (let i = 0; i < 20; i++) g.unary('exp', x, o, 64 - i);
    g.flush();
    expect(g.stats().pipelines).toBe(p0);
    g.free(x);
    g.free(o);
  });

  it('free-while-queued: a queued kernel still reads the ORIGINAL data of a freed buffer', async (ctx) => {
    const g = G(ctx);
    g.flush();
    const n = 777;
    const original = randF32(n, 41);
    const x = g.upload(original);
    const out = g.alloc(n, 'float32');
    g.scalar('mul', x, 3, out, n); // queued, not submitted
    g.free(x);
    // Same size class: a naive pool would hand x's buffer back and overwrite it before the kernel runs.
    const y = g.upload(new Float32Array(n).fill(-1));
    const z = g.alloc(n, 'float32');
    g.fill(z, n, 5, 'float32');
    const got = await g.read(out, 'float32', n);
    expectClose(got, original.map((v) => v * 3));
    expect(await g.read(y, 'float32', n)).toEqual(new Float32Array(n).fill(-1));
    for (const b of [out, y, z]) g.free(b);
  });

  it('free-while-queued: a buffer recycled within the batch and freed unused stays off-limits to upload', async (ctx) => {
    const g = G(ctx);
    g.flush();
    const n = 555;
    const original = randF32(n, 42);
    const x = g.upload(original);
    const out = g.alloc(n, 'float32');
    g.unary('neg', x, out, n);
    g.free(x);
    const y = g.alloc(n, 'float32'); // may be x's buffer, recycled inside the batch
    g.free(y); // freed without any use
    const z = g.upload(new Float32Array(n).fill(9)); // must not be written into x's buffer now
    expectClose(await g.read(out, 'float32', n), original.map((v) => -v));
    expect(await g.read(z, 'float32', n)).toEqual(new Float32Array(n).fill(9));
    g.free(out);
    g.free(z);
  });

  it('reports memory per live buffer and frees into the pool', (ctx) => {
    const g = G(ctx);
    const m0 = g.memory();
    const a = g.alloc(100, 'float32');
    const m1 = g.memory();
    expect(m1.liveBuffers).toBe(m0.liveBuffers + 1);
    expect(m1.liveBytes - m0.liveBytes).toBeGreaterThanOrEqual(400);
    g.free(a);
    const m2 = g.memory();
    expect(m2.liveBuffers).toBe(m0.liveBuffers);
    expect(m2.pooledBuffers).toBeGreaterThanOrEqual(1);
  });
});
