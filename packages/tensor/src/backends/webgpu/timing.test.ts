// GPU timing (timing.ts): timestamps are gathered only when asked for, add up to a positive time, and
// leave the dispatch, submit and readback counters exactly as they are without timing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type WebGPUBackend, createWebGPUBackend } from './index.ts';
import { requireWebGPU } from './test-support.ts';

/** The default backend (fails the file under CI without an adapter), and two made with the option. */
let plain: WebGPUBackend | null = null;
let timed: WebGPUBackend | null = null;
let untimed: WebGPUBackend | null = null;

beforeAll(async () => {
  plain = await requireWebGPU();
  if (plain === null) return;
  timed = await createWebGPUBackend({ timing: true });
  untimed = await createWebGPUBackend({ timing: false });
});

afterAll(() => {
  for (const g of [plain, timed, untimed]) {
    if (g === null) continue;
    expect(g.errors).toEqual([]);
    g.destroy();
  }
});

/** `n` tiny kernels, then the one read a training step ends with; returns the counters it added. */
async function work(g: WebGPUBackend, n: number): Promise<{ dispatches: number; submits: number; readbacks: number }> {
  const before = g.stats();
  const x = g.upload(new Float32Array([1, 2, 3, 4]));
  const y = g.alloc(4, 'float32', true);
  for (let i = 0; i < n; i++) g.scalar('mul', i % 2 === 0 ? x : y, 1, i % 2 === 0 ? y : x, 4);
  expect(Array.from(await g.read(x, 'float32', 4))).toEqual([1, 2, 3, 4]);
  g.free(x);
  g.free(y);
  const after = g.stats();
  return { dispatches: after.dispatches - before.dispatches, submits: after.submits - before.submits, readbacks: after.readbacks - before.readbacks };
}

it('times the passes of a few hundred dispatches, then reports nothing new', async (ctx) => {
  if (timed === null) return ctx.skip();
  if (!timed.timing) {
    // Not a failure: the option is ignored on adapters without the feature, and says so.
    console.warn('[tinytape] this adapter has no timestamp-query: GPU timing is not tested');
    return ctx.skip();
  }
  await timed.gpuTime(); // whatever creation queued
  const counted = await work(timed, 300);
  const t = await timed.gpuTime();
  expect(t.passes).toBeGreaterThanOrEqual(1);
  expect(t.passes).toBeLessThanOrEqual(counted.submits);
  expect(Number.isFinite(t.ms)).toBe(true);
  expect(t.ms).toBeGreaterThan(0);
  expect(await timed.gpuTime()).toEqual({ passes: 0, ms: 0 });
  // Its reads are its own: the counters of the same work match the backend without timing.
  expect(counted).toEqual(await work(untimed!, 300));
  expect(timed.timingStats()!.readbacks).toBeGreaterThanOrEqual(1);
});

it('resolves a full query set inside a batch (more passes than slots)', async (ctx) => {
  if (plain === null || timed === null || !timed.timing) return ctx.skip();
  // One dispatch per submit, so one pass each: 600 passes overflow the 256-pass query set twice.
  const g = (await createWebGPUBackend({ timing: true, maxBatch: 1 }))!;
  try {
    const submitsBefore = g.timingStats()!.submits;
    const counted = await work(g, 600);
    expect(g.timingStats()!.submits).toBe(submitsBefore); // the full sets rode along with batches
    const t = await g.gpuTime();
    expect(t.passes).toBe(counted.dispatches);
    expect(t.ms).toBeGreaterThan(0);
    expect(g.timingStats()!.untimed).toBe(0);
    expect(g.errors).toEqual([]);
  } finally {
    g.destroy();
  }
});

it('changes nothing when off, and gpuTime() says why it cannot answer', async (ctx) => {
  if (plain === null || untimed === null) return ctx.skip();
  expect(untimed.timing).toBe(false);
  expect(untimed.timingStats()).toBeNull();
  expect(await work(untimed, 300)).toEqual(await work(plain, 300));
  await expect(untimed.gpuTime()).rejects.toThrow(/timing on/);
});
