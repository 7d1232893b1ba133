/**
 * Index kernels: gather (embedding lookup), scatterAdd (its gradient) and oneHot.
 *
 * WGSL has no float atomics, so scatterAdd inverts the loop: one thread per *output* element (row t,
 * column c) walks every index i and adds src[i, c] where indices[i] == t. Duplicate indices are summed
 * in index order, exactly like the sequential CPU loop, and no two threads write the same element.
 *
 * Parameter words: 0 numIndices, 1 tableRows, 2 rowSize (or depth), 3 thread count.
 */
import type { GatherParams } from '../../backend.ts';
import { type GpuBuf, type GpuContext, MAIN_1D, grid1d, prelude } from './context.ts';

/** out[r, :] = table[indices[r], :]; an out-of-range index gives a zero row. Dtype-agnostic. */
export function gather(ctx: GpuContext, table: GpuBuf, indices: GpuBuf, out: GpuBuf, p: GatherParams): void {
  const total = p.numIndices * p.rowSize;
  ctx.run({
    key: 'gather',
    source: () => `${prelude([['table', 'r', 'u32'], ['indices', 'r', 'i32'], ['out', 'w', 'u32']])}
${MAIN_1D}
  if (idx >= p(3)) { return; }
  let rowSize = p(2);
  let r = idx / rowSize;
  let c = idx % rowSize;
  let t = indices[r];
  var v = 0u;
  if (t >= 0 && u32(t) < p(1)) { v = table[u32(t) * rowSize + c]; }
  out[idx] = v;
}`,
    params: [p.numIndices, p.tableRows, p.rowSize, total],
    bindings: [
      { buf: table, access: 'r' },
      { buf: indices, access: 'r' },
      { buf: out, access: 'w', covers: total },
    ],
    groups: grid1d(total),
  });
}

/** out[indices[r], :] += src[r, :] (float32), duplicates summed; out-of-range indices are skipped. */
export function scatterAdd(ctx: GpuContext, src: GpuBuf, indices: GpuBuf, out: GpuBuf, p: GatherParams): void {
  const total = p.tableRows * p.rowSize;
  ctx.run({
    key: 'scatterAdd',
    source: () => `${prelude([['src', 'r', 'f32'], ['indices', 'r', 'i32'], ['out', 'rw', 'f32']])}
${MAIN_1D}
  if (idx >= p(3)) { return; }
  let rowSize = p(2);
  let t = i32(idx / rowSize);
  let c = idx % rowSize;
  let n = p(0);
  var acc = 0.0;
  var hit = false;
  for (var i = 0u; i < n; i++) {
    if (indices[i] == t) {
      if (!hit) { acc = out[idx]; hit = true; }
      acc = acc + src[i * rowSize + c];
    }
  }
  if (hit) { out[idx] = acc; }
}`,
    params: [p.numIndices, p.tableRows, p.rowSize, total],
    bindings: [
      { buf: src, access: 'r' },
      { buf: indices, access: 'r' },
      { buf: out, access: 'rw' },
    ],
    groups: grid1d(total),
  });
}

/** out[i, j] = indices[i] == j ? 1 : 0 over [numIndices, depth]. */
export function oneHot(ctx: GpuContext, indices: GpuBuf, out: GpuBuf, numIndices: number, depth: number): void {
  const total = numIndices * depth;
  ctx.run({
    key: 'oneHot',
    source: () => `${prelude([['indices', 'r', 'i32'], ['out', 'w', 'f32']])}
${MAIN_1D}
  if (idx >= p(3)) { return; }
  let depth = p(2);
  out[idx] = select(0.0, 1.0, indices[idx / depth] == i32(idx % depth));
}`,
    params: [numIndices, 0, depth, total],
    bindings: [{ buf: indices, access: 'r' }, { buf: out, access: 'w', covers: total }],
    groups: grid1d(total),
  });
}
