import type { AxisParams, ReduceOp } from '../../backend.ts';
import { tryWasmColumnSums } from './wasm/wasm-elementwise.ts';

// x is viewed as [outer, axis, inner]. When inner is 1 each output is one contiguous run, reduced in a
// local. Otherwise the reduced axis is strided, so instead of walking it column by column (a cache miss
// per element once inner is large) whole [inner] slices are combined row by row into an accumulator.
//
// max and argmax let NaN win (PyTorch does the same), so a diverging model shows up instead of
// being silently masked by the comparison `v > best` always failing on NaN.

/** out[o, j] = sum or max of x[o, a, j] over a; an empty axis gives 0 for sum and -Infinity for max. */
export function reduce(op: ReduceOp, x: Float32Array, out: Float32Array, p: AxisParams): void {
  if (op === 'sum') reduceSum(x, out, p);
  else if (op === 'max') reduceMax(x, out, p);
  else throw new Error(`cpu backend: unknown reduce op '${op as string}'`);
}

function reduceSum(x: Float32Array, out: Float32Array, { outer, axis, inner }: AxisParams): void {
  if (inner === 1) {
    for (let o = 0, base = 0; o < outer; o++, base += axis) {
      let s = 0;
      const end = base + axis;
      for (let i = base; i < end; i++) s += x[i]!;
      out[o] = s;
    }
    return;
  }
  // Double-precision accumulators, so long sums (a loss over many rows) do not drift in float32.
  // WebAssembly SIMD sums the same way in the same order (wasm/wasm-elementwise.ts), faster.
  const block = axis * inner;
  let acc: Float64Array | undefined; // allocated only when a block falls back to this loop
  for (let o = 0; o < outer; o++) {
    if (tryWasmColumnSums(x, o * block, out, o * inner, axis, inner)) continue;
    acc ??= new Float64Array(inner);
    acc.fill(0);
    let row = o * block;
    for (let a = 0; a < axis; a++, row += inner) {
      for (let j = 0; j < inner; j++) acc[j] += x[row + j]!;
    }
    out.set(acc, o * inner);
  }
}

function reduceMax(x: Float32Array, out: Float32Array, { outer, axis, inner }: AxisParams): void {
  if (inner === 1) {
    for (let o = 0, base = 0; o < outer; o++, base += axis) {
      let m = -Infinity;
      const end = base + axis;
      for (let i = base; i < end; i++) {
        const v = x[i]!;
        if (v > m || v !== v) m = v;
      }
      out[o] = m;
    }
    return;
  }
  // float32 max is exact, so the output row itself can be the accumulator.
  const block = axis * inner;
  for (let o = 0; o < outer; o++) {
    const dst = o * inner;
    out.fill(-Infinity, dst, dst + inner);
    let row = o * block;
    for (let a = 0; a < axis; a++, row += inner) {
      for (let j = 0; j < inner; j++) {
        const v = x[row + j]!;
        const m = out[dst + j]!;
        if (v > m || (v !== v && m === m)) out[dst + j] = v;
      }
    }
  }
}

/** out[o, j] = the first a that maximises x[o, a, j] (int32); the first NaN counts as the maximum. */
export function argmax(x: Float32Array, out: Int32Array, { outer, axis, inner }: AxisParams): void {
  if (inner === 1) {
    for (let o = 0, base = 0; o < outer; o++, base += axis) {
      let best = -Infinity;
      let at = 0;
      for (let a = 0; a < axis; a++) {
        const v = x[base + a]!;
        // Strict > keeps the first of equal values; once best is NaN nothing compares greater.
        if (v > best || (v !== v && best === best)) {
          best = v;
          at = a;
        }
      }
      out[o] = at;
    }
    return;
  }
  const best = new Float64Array(inner);
  const block = axis * inner;
  for (let o = 0; o < outer; o++) {
    const dst = o * inner;
    best.fill(-Infinity);
    out.fill(0, dst, dst + inner);
    let row = o * block;
    for (let a = 0; a < axis; a++, row += inner) {
      for (let j = 0; j < inner; j++) {
        const v = x[row + j]!;
        const b = best[j]!;
        if (v > b || (v !== v && b === b)) {
          best[j] = v;
          out[dst + j] = a;
        }
      }
    }
  }
}
