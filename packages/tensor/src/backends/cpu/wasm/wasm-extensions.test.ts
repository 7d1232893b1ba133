// The wasm extension API: functions compiled into the CPU backend's module, run on its memory and on
// both threads, calling its matmul and math kernels; registered after the module was first built.
import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../../../errors.ts';
import { matmulThreads } from './matmul-helper.ts';
import { wasmMatmul, wasmSimdAvailable } from './wasm-matmul.ts';
import { type ModuleBuilder, type WasmLibrary, registerWasmExtension, wasmRuntime } from './wasm-extensions.ts';

/** doubleAll(src, dst, n): dst = src + src over n floats (n a multiple of 4). */
function addDouble(mod: ModuleBuilder): void {
  mod.addFunction('testDoubleAll', ['i32', 'i32', 'i32'], [], (f) => {
    const [src, dst, n] = [0, 1, 2];
    f.block((done) => {
      f.loop((top) => {
        f.get(n).i32Eqz().brIf(done);
        f.get(dst).get(src).v128Load().get(src).v128Load().f32x4Add().v128Store();
        for (const p of [src, dst]) f.get(p).i32Const(16).i32Add().set(p);
        f.get(n).i32Const(4).i32Sub().set(n);
        f.br(top);
      });
    });
  });
}

/** tanhProduct(a, b, c, m, nv, k): C = tanh(A·B) with B packed, through the module's own kernels. */
function addTanhProduct(mod: ModuleBuilder, lib: WasmLibrary): void {
  mod.addFunction('testTanhProduct', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f) => {
    const [a, b, c, m, nv, k] = [0, 1, 2, 3, 4, 5];
    const ldc = f.local('i32');
    f.get(nv).i32Const(4).i32Mul().set(ldc);
    f.get(a).get(b).get(c).get(m).get(nv).get(k).get(k).i32Const(4).i32Mul().i32Const(4).get(ldc).call(lib.nn);
    f.get(c).get(c).get(m).get(ldc).i32Mul().call(lib.math('tanh'));
  });
}

/**
 * piece(block): block holds i32s [p, out, spin]; adds 1 to the 4 floats at out + 16·p after `spin` empty
 * loop rounds (so both threads are still claiming when the other starts). A piece run twice shows as 2.
 */
function addPiece(mod: ModuleBuilder): void {
  mod.addFunction('testPiece', ['i32'], [], (f) => {
    const [p, out, spin, at] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
    f.get(0).i32Load(0).set(p);
    f.get(0).i32Load(4).set(out);
    f.get(0).i32Load(8).set(spin);
    f.block((done) => {
      f.loop((top) => {
        f.get(spin).i32Eqz().brIf(done);
        f.get(spin).i32Const(1).i32Sub().set(spin);
        f.br(top);
      });
    });
    f.get(out).get(p).i32Const(16).i32Mul().i32Add().set(at);
    f.get(at).get(at).v128Load().f32x4Const(1).f32x4Add().v128Store();
  });
}

describe.runIf(wasmSimdAvailable())('wasm extensions', () => {
  // A product before registering builds the module without the extension; it is rebuilt on next use.
  const A = Float32Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i));
  const B = Float32Array.from({ length: 6 * 8 }, (_, i) => Math.cos(i));
  const expected = new Float32Array(64);
  beforeAll(() => {
    expect(wasmMatmul(A, B, expected, { batch: 1, m: 8, k: 6, n: 8, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 })).toBe(true);
    registerWasmExtension({ name: 'test-extension', build: (mod, lib) => { addDouble(mod); addTanhProduct(mod, lib); addPiece(mod); } });
  });

  it('are compiled in after the module was first built, and the matmul still works', () => {
    expect(wasmRuntime('testDoubleAll')).not.toBeNull();
    expect(wasmRuntime('noSuchFunction')).toBeNull();
    const C = new Float32Array(64);
    expect(wasmMatmul(A, B, C, { batch: 1, m: 8, k: 6, n: 8, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 })).toBe(true);
    expect(C).toEqual(expected);
  });

  it('run on this thread and on the helper, each on its own share of the memory', async () => {
    const rt = wasmRuntime('testDoubleAll')!;
    expect(rt.threads).toBe(matmulThreads());
    for (let i = 0; i < 200 && rt.threads === 2 && !rt.helperReady(); i++) await new Promise((r) => setTimeout(r, 25));
    const view = rt.reserve(64)!;
    const src = Float32Array.from({ length: 32 }, (_, i) => i - 7.5);
    view.set(src, rt.base);
    const at = (float: number) => (rt.base + float) * 4;
    rt.call('testDoubleAll', at(0), at(32), 16);
    rt.callBoth('testDoubleAll', [at(16), at(48), 8], [at(24), at(56), 8]);
    const out = rt.reserve(64)!.subarray(rt.base + 32, rt.base + 64);
    expect(Array.from(out)).toEqual(Array.from(src, (x) => 2 * x));
  });

  it('run every piece of a callPieces exactly once, whichever thread claims it', async () => {
    const rt = wasmRuntime('testPiece')!;
    for (let i = 0; i < 200 && rt.threads === 2 && !rt.helperReady(); i++) await new Promise((r) => setTimeout(r, 25));
    for (const pieces of [1, 2, 7, 40]) {
      // Blocks of 4 i32s from base, then the pieces' outputs (4 floats each).
      const view = rt.reserve(4 * pieces + 4 * pieces)!;
      const ints = new Int32Array(view.buffer);
      const outAt = rt.base + 4 * pieces;
      view.fill(0, outAt, outAt + 4 * pieces);
      for (let p = 0; p < pieces; p++) ints.set([p, outAt * 4, 20_000 * (p % 3), 0], rt.base + 4 * p);
      rt.callPieces('testPiece', rt.base * 4, pieces, 16);
      expect(Array.from(rt.reserve(8 * pieces)!.subarray(outAt, outAt + 4 * pieces)), `${pieces} pieces`).toEqual(new Array(4 * pieces).fill(1));
    }
  });

  it('call the matmul kernels and the math functions inside the module', () => {
    const rt = wasmRuntime('testTanhProduct')!;
    const [m, k, n] = [5, 7, 12];
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(3 * i) / 2);
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(5 * i) / 2);
    let view = rt.reserve(m * k + 2 * k * n + m * n + 64)!;
    const [aAt, rawAt, packedAt, cAt] = [0, 64, 64 + k * n, 64 + 2 * k * n].map((x) => rt.base + x) as [number, number, number, number];
    view.set(a, aAt);
    view.set(b, rawAt);
    rt.call('packB', rawAt * 4, packedAt * 4, k, n / 4, n);
    rt.call('testTanhProduct', aAt * 4, packedAt * 4, cAt * 4, m, n / 4, k);
    view = rt.reserve(64 + 2 * k * n + m * n)!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
        expect(view[cAt + i * n + j]).toBeCloseTo(Math.tanh(s), 5);
      }
    }
  });

  it('refuse a second extension of the same name', () => {
    expect(() => registerWasmExtension({ name: 'test-extension', build: () => {} })).toThrow(ValueError);
  });
});
