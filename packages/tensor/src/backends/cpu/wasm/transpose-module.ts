// A 4 x 4 block transpose in WebAssembly SIMD, for packing a transposed B into the matmul's strips
// (operand-layout.ts, packTransposedInto). Added to the matmul module, so it runs on the memory the
// packed strips live in, reading a B that lies in the heap where it is.
//
// Why: the JavaScript loop moves one float at a time, and the scratch RNN 512 repacks W_hhᵀ [512,512]
// after every update: 300 µs that way, 45 µs here (alone, 2026-12-04). Four rows of B (four columns
// of op(B)) are loaded as vectors and turned into four rows of the strip with eight shuffles.

import type { FunctionBuilder, ModuleBuilder } from './wasm-writer.ts';

const I32 = 'i32' as const;

/**
 * Adds `transpose4(src, dst, rows, srcStride, dstStride)`: for p < rows (a multiple of 4), the four
 * floats at dst + p·dstStride become (s0[p], s1[p], s2[p], s3[p]), where s_l is the row of floats at
 * src + l·srcStride. Addresses and strides are in bytes.
 */
export function addTranspose4(mod: ModuleBuilder): void {
  mod.addFunction('transpose4', [I32, I32, I32, I32, I32], [], (f: FunctionBuilder) => {
    const [src, dst, rows, srcStride, dstStride] = [0, 1, 2, 3, 4] as const;
    const v = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const;
    const t = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const;
    const counter = f.local(I32);
    f.get(rows).i32Const(2).i32ShrU().tee(counter).if(() => {
      f.loop((top) => {
        for (let l = 0; l < 4; l++) {
          f.get(src);
          for (let s = 0; s < l; s++) f.get(srcStride).i32Add();
          f.v128Load().set(v[l]);
        }
        // t0 = (s0[0], s1[0], s0[1], s1[1]), t1 = (s0[2], s1[2], s0[3], s1[3]); t2, t3 likewise for s2, s3.
        f.get(v[0]).get(v[1]).f32x4Shuffle([0, 4, 1, 5]).set(t[0]);
        f.get(v[0]).get(v[1]).f32x4Shuffle([2, 6, 3, 7]).set(t[1]);
        f.get(v[2]).get(v[3]).f32x4Shuffle([0, 4, 1, 5]).set(t[2]);
        f.get(v[2]).get(v[3]).f32x4Shuffle([2, 6, 3, 7]).set(t[3]);
        const rowsOut: [number, number, [number, number, number, number]][] = [
          [t[0], t[2], [0, 1, 4, 5]], [t[0], t[2], [2, 3, 6, 7]], [t[1], t[3], [0, 1, 4, 5]], [t[1], t[3], [2, 3, 6, 7]],
        ];
        for (const [a, b, lanes] of rowsOut) {
          f.get(dst).get(a).get(b).f32x4Shuffle(lanes).v128Store();
          f.get(dst).get(dstStride).i32Add().set(dst);
        }
        f.get(src).i32Const(16).i32Add().set(src);
        f.get(counter).i32Const(1).i32Sub().tee(counter).brIf(top);
      });
    });
  });
}
