// The host cell kernels (cells-host.ts) against their separate ops written out on the wasm backend's
// own kernels, at sizes whose blocks are no multiple of the SIMD width: bit for bit.
import { describe, expect, it } from 'vitest';
import { type UnaryOp, cpu } from '@tinytape/tensor';
import { gruCellHost, lstmCellHost } from '../src/kernels/cells-host.ts';

/** n floats uniform in [lo, hi), from a small seeded LCG. */
function uniformFloats(n: number, lo: number, hi: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/** The wasm backend's unary kernel (vectorised σ and tanh), on plain Float32Arrays. */
const unary = (op: UnaryOp, x: Float32Array, out: Float32Array, size: number): void => cpu().backend.unary(op, x, out, size);

/** The rounding of a float32 tensor op's store. */
const f = Math.fround;

describe('host cell kernels at sizes with vector tails', () => {
  // batch 3, hidden 37: blocks of 111, 222 and 333 floats, none a multiple of 4.
  const [batch, hidden] = [3, 37];

  it('gruCell equals its separate ops (elementwise stores, unary σ and tanh) bit for bit', () => {
    const [xp, hp] = [uniformFloats(batch * 3 * hidden, -6, 6, 9), uniformFloats(batch * 3 * hidden, -6, 6, 10)];
    const [bias, h] = [uniformFloats(3 * hidden, -6, 6, 11), uniformFloats(batch * hidden, -6, 6, 12)];
    const out = new Float32Array(batch * hidden);
    gruCellHost({ inputs: [xp, hp, bias, h], outputs: [out], sizes: [out.length], params: { batch, hidden }, unary });

    const rzPre = new Float32Array(batch * 2 * hidden);
    const nPre = new Float32Array(batch * hidden);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < 2 * hidden; j++) rzPre[b * 2 * hidden + j] = xp[b * 3 * hidden + j]! + f(hp[b * 3 * hidden + j]! + bias[j]!);
    }
    const rz = new Float32Array(rzPre.length);
    unary('sigmoid', rzPre, rz, rz.length);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < hidden; j++) {
        const hb = f(hp[b * 3 * hidden + 2 * hidden + j]! + bias[2 * hidden + j]!);
        nPre[b * hidden + j] = xp[b * 3 * hidden + 2 * hidden + j]! + f(rz[b * 2 * hidden + j]! * hb);
      }
    }
    const n = new Float32Array(nPre.length);
    unary('tanh', nPre, n, n.length);
    const want = new Float32Array(batch * hidden);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < hidden; j++) {
        const k = b * hidden + j;
        want[k] = n[k]! + f(rz[b * 2 * hidden + hidden + j]! * f(h[k]! - n[k]!));
      }
    }
    expect(new Uint32Array(out.buffer)).toEqual(new Uint32Array(want.buffer));
  });

  it('lstmCell equals its separate ops bit for bit, and matches the per-element Math formula', () => {
    const [xp, hp] = [uniformFloats(batch * 4 * hidden, -6, 6, 13), uniformFloats(batch * 4 * hidden, -6, 6, 14)];
    const c = uniformFloats(batch * hidden, -6, 6, 15);
    const [outH, outC] = [new Float32Array(batch * hidden), new Float32Array(batch * hidden)];
    lstmCellHost({ inputs: [xp, hp, c], outputs: [outH, outC], sizes: [outH.length, outC.length], params: { batch, hidden }, unary });

    const gate = (g: number, op: UnaryOp): Float32Array => {
      const pre = new Float32Array(batch * hidden);
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < hidden; j++) pre[b * hidden + j] = xp[b * 4 * hidden + g * hidden + j]! + hp[b * 4 * hidden + g * hidden + j]!;
      }
      unary(op, pre, pre, pre.length);
      return pre;
    };
    const [i, fg, g, o] = [gate(0, 'sigmoid'), gate(1, 'sigmoid'), gate(2, 'tanh'), gate(3, 'sigmoid')];
    const wantC = new Float32Array(batch * hidden);
    for (let k = 0; k < wantC.length; k++) wantC[k] = f(fg[k]! * c[k]!) + f(i[k]! * g[k]!);
    const tc = new Float32Array(wantC.length);
    unary('tanh', wantC, tc, tc.length);
    const wantH = new Float32Array(wantC.length);
    for (let k = 0; k < wantH.length; k++) wantH[k] = o[k]! * tc[k]!;
    expect(new Uint32Array(outC.buffer)).toEqual(new Uint32Array(wantC.buffer));
    expect(new Uint32Array(outH.buffer)).toEqual(new Uint32Array(wantH.buffer));

    // And the same as the one-loop kernel this replaced, with Math.exp / Math.tanh per element.
    const sigma = (v: number): number => f(v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    for (let k = 0; k < wantC.length; k++) {
      const [b, j] = [Math.floor(k / hidden), k % hidden];
      const pre = (gi: number): number => f(xp[b * 4 * hidden + gi * hidden + j]! + hp[b * 4 * hidden + gi * hidden + j]!);
      const cNext = f(f(sigma(pre(1)) * c[k]!) + f(sigma(pre(0)) * f(Math.tanh(pre(2)))));
      expect(outC[k]).toBe(cNext);
      expect(outH[k]).toBe(f(sigma(pre(3)) * f(Math.tanh(cNext))));
    }
  });
});

