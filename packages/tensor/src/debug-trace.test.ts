// The kernel trace (TINYTAPE_DEBUG=1): one line per kernel with backend, kernel and shapes; nothing
// when the switch is off.
import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceBackend } from './backends/reference/index.ts';
import { kernelTraceEnabled, traceKernels } from './debug-trace.ts';

describe('the kernel trace', () => {
  const saved = process.env.TINYTAPE_DEBUG;
  afterEach(() => {
    if (saved === undefined) delete process.env.TINYTAPE_DEBUG;
    else process.env.TINYTAPE_DEBUG = saved;
  });

  it('is switched on by TINYTAPE_DEBUG set to anything but empty or 0', () => {
    for (const [value, on] of [['1', true], ['yes', true], ['0', false], ['', false]] as const) {
      process.env.TINYTAPE_DEBUG = value;
      expect(kernelTraceEnabled()).toBe(on);
    }
    delete process.env.TINYTAPE_DEBUG;
    expect(kernelTraceEnabled()).toBe(false);
  });

  it('prints each kernel with its backend and shapes as it runs, and still runs it', async () => {
    const lines: string[] = [];
    const be = traceKernels(createReferenceBackend(), true, (line) => lines.push(line));
    const a = be.upload(new Float32Array([1, 2, 3, 4, 5, 6]));
    const b = be.upload(new Float32Array([1, 0, 0, 1, 1, 1]));
    const c = be.alloc(4, 'float32');
    be.matmul(a, b, c, { batch: 1, m: 2, k: 3, n: 2, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 });
    be.unary('tanh', c, c, 4);
    be.binary('add', a, b, a, { outShape: [2, 3], aStrides: [3, 1], bStrides: [3, 1], size: 6 });
    expect(lines).toEqual([
      '[tinytape reference] matmul nn [2,3]x[3,2]',
      '[tinytape reference] unary tanh [4]',
      '[tinytape reference] binary add [2,3]',
    ]);
    expect(Array.from(await be.read(c, 'float32', 4))).toEqual([4, 5, 10, 11].map((v) => Math.fround(Math.tanh(v))));
  });

  it('leaves the backend untouched when off', () => {
    const be = createReferenceBackend();
    const matmul = be.matmul;
    expect(traceKernels(be, false)).toBe(be);
    expect(be.matmul).toBe(matmul);
  });
});
