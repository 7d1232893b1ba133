// The wasm backend's buffer pool, beyond the Backend contract (backends/contract/): freed buffers are
// kept by dtype and size and handed out again zeroed, and memory() reports them apart.
import { describe, expect, it } from 'vitest';
import { POOL_MIN_ELEMENTS, createWasmBackend } from './index.ts';

describe('the wasm backend pool', () => {
  it('reuses a freed buffer of the same dtype and size, zeroed, and reports it as pooled meanwhile', async () => {
    const local = createWasmBackend();
    const a = local.alloc(100, 'float32');
    local.fill(a, 100, 3, 'float32');
    local.free(a);
    expect(local.memory()).toEqual({ liveBuffers: 0, liveBytes: 0, pooledBuffers: 1, pooledBytes: 400 });
    // Another dtype or size does not take it.
    const other = local.alloc(100, 'int32');
    const bigger = local.alloc(101, 'float32');
    expect(other).not.toBe(a);
    expect(bigger).not.toBe(a);
    const again = local.alloc(100, 'float32');
    expect(again).toBe(a);
    expect(Array.from(await local.read(again, 'float32', 100)).every((v) => v === 0)).toBe(true);
    expect(local.memory()).toMatchObject({ liveBuffers: 3, pooledBuffers: 0, pooledBytes: 0 });
    local.destroy();
  });

  it(`keeps no buffer under ${POOL_MIN_ELEMENTS} elements (a fresh array is cheaper than a lookup)`, () => {
    const local = createWasmBackend();
    const small = local.alloc(POOL_MIN_ELEMENTS - 1, 'float32');
    local.free(small);
    expect(local.memory().pooledBuffers).toBe(0);
    expect(local.alloc(POOL_MIN_ELEMENTS - 1, 'float32')).not.toBe(small);
    const pooled = local.alloc(POOL_MIN_ELEMENTS, 'float32');
    local.free(pooled);
    expect(local.memory().pooledBuffers).toBe(1);
    expect(local.alloc(POOL_MIN_ELEMENTS, 'float32')).toBe(pooled);
  });
});
