// The matmul kernels, written with the assembler in wasm-writer.ts and compiled at run time.
// (Over 400 lines: the packing routines and the two kernel families share their register-block
// helpers, and each half is read against the other; split apart they would be harder to follow.)
//
// Two kernel families cover the four transpose cases (wasm-matmul.ts lays the operands out):
//
// * Outer-product kernels (`nn`, `tn`) for op(B) packed by `packB` (or by the host): cut into strips
//   of 4·vecs columns, each strip's k rows back to back. A register block of `rows` x `vecs` 4-lane
//   accumulators covers `rows` rows and 4·vecs columns of C. Each step of k loads `vecs` vectors
//   from the strip, broadcasts one element of A per block row, and does rows·vecs multiply-adds, so
//   every loaded value is used several times while the accumulators never leave registers. `nn`
//   reads A row-major (m x k); `tn` reads it transposed, packed by `packA` into panels of the
//   block's rows (k x rows each), where the block's rows are adjacent floats at constant offsets
//   from one pointer.
// * A dot-product kernel (`nt`) for B transposed (stored n x k): vectorising over n would need
//   strided gathers, so it vectorises over k instead. A block of `dotRows` rows x 4 columns keeps
//   one 4-lane partial sum per output element, and the four sums of a row are reduced horizontally
//   with shuffles into one vector at the end. A k that is not a multiple of 4 finishes with
//   single-float loads (`v128.load32_zero`), so neither operand needs padding.
//
// Why these block sizes (measured with Node 20 / V8 11.3 on an x86-64 Xeon, where V8 maps v128 to
// the 16 xmm registers): without a fused multiply-add each update is a mul and an add, and the core
// issues about one such pair per cycle. About 8 independent accumulators hide the add latency, and
// the accumulators, the B vectors, the broadcast A value and a product temporary must fit in 16
// registers or V8 spills inside the loop. 4 x 2 and, for the dot kernel, 2 x 4 (8 accumulators each)
// ran at 22-27 GFLOP/s on the kernels alone; 6 x 2, 3 x 3, 2 x 4 and unrolling k by 2 or 4 measured
// the same or worse within noise, so the simplest won, and 4 rows divide the usual batch sizes,
// leaving no edge blocks. With relaxed SIMD (`fma`), each update is one f32x4.relaxed_madd, which
// V8 emits as vfmadd on this CPU: half the arithmetic instructions and no product temporary. The
// same 8 accumulators cover the FMA's latency; interleaved on the kernels alone, one thread, the
// FMA kernels ran 1.4-1.6x the mul-then-add ones (e.g. [32,256]·[256,256] 24 -> 37 GFLOP/s,
// 1024³ 22 -> 32), and 4 x 3, 6 x 2, 3 x 4 and other dot block heights were no better. B is packed
// because inside training a strided strip of B (rows 2 KB apart at [512,512]) came from L3 with a
// miss per row: packed, the strip is 16 KB of consecutive memory that the prefetcher streams, and
// the per-time-step products ran 8-15% faster on the kernel alone, with the cache flushed between
// calls, and about 1.2x faster inside training. Unrolling k (now possible at constant offsets) ran
// slower, 2 and 4 alike. The outer-product drivers loop over strips outside row blocks, so a strip
// stays in L1 while every row block uses it.
//
// Accumulation is in float32 in a fixed order, so results are deterministic run to run (they differ
// from the reference triple loop, which accumulates in doubles, by rounding only).

import { DEFAULT_MATH_UNROLL, MATH_OPS, type MathOp, addOpFunction } from './math-module.ts';
import { type FunctionBuilder, ModuleBuilder, type ValType } from './wasm-writer.ts';
import { addTranspose4 } from './transpose-module.ts';

/** Register-block and unrolling parameters of the generated kernels (see the header comment). */
export interface KernelShape {
  /** Rows of C per block in the outer-product kernels (nn, tn). */
  readonly rows: number;
  /** 4-lane column vectors per block in the outer-product kernels. */
  readonly vecs: number;
  /** Steps of k per loop iteration in the outer-product kernels; a power of two. */
  readonly unroll: number;
  /** Rows of C per block in the dot-product kernel (nt); each block covers 4 columns. */
  readonly dotRows: number;
  /** 4-wide steps of k per loop iteration in the dot-product kernel; a power of two. */
  readonly dotUnroll: number;
  /**
   * Loop order of the outer-product drivers: column blocks outside (each strip of B is reused by
   * every row block while it is still cached) or row blocks outside (each block of A rows is reused
   * by every column block).
   */
  readonly columnsOuter: boolean;
  /**
   * Multiply-add with f32x4.relaxed_madd (one fused instruction where the CPU has FMA) instead of
   * f32x4.mul then f32x4.add. Only for engines that validate relaxed SIMD; see `wasmFmaAvailable`.
   */
  readonly fma: boolean;
}

/** The block shape the CPU backend uses; see the header comment for why. */
export const DEFAULT_KERNEL_SHAPE: KernelShape = {
  rows: 4, vecs: 2, unroll: 1, dotRows: 2, dotUnroll: 1, columnsOuter: true, fma: false,
};

/** The memory export, typed as far as the host uses it. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  /** Grows by `pages` 64 KiB pages and returns the old size in pages; throws when it cannot. */
  grow(pages: number): number;
}

/**
 * The module's exports. Pointers are byte addresses in `memory`; sizes and leading dimensions are
 * in elements. C is always written row-major with leading dimension `ldc` (nn, tn) or n (nt).
 */
export interface MatmulModuleExports {
  readonly memory: WasmMemory;
  /**
   * C = A·B with B packed by `packB` from k rows and A row-major m x k: row i of C reads A from
   * a + i·aRow bytes (aRow = 4·lda). Computes `nv` 4-column vectors per row, i.e. columns up to
   * 4·nv, so ldc must be at least 4·nv; lanes past the caller's n hold whatever packB read past B's
   * rows and are written to C's padding. (aStep is unused: each step of k moves 4 bytes.)
   */
  nn(a: number, b: number, c: number, m: number, nv: number, k: number, aRow: number, aStep: number, ldc: number): void;
  /**
   * As `nn`, but the block's rows of A are adjacent floats: row i of C starts at a + i·aRow and each
   * step of k moves aStep bytes. A stored k x m (rows lda apart) has aRow = 4, aStep = 4·lda; A packed
   * by `packA` has aRow = 4·k (of the whole packed A), aStep = 4·rows.
   */
  tn(a: number, b: number, c: number, m: number, nv: number, k: number, aRow: number, aStep: number, ldc: number): void;
  /** As `nn`, but adds the product to C (C += A·B), which must hold the values to add to. */
  nnAcc(a: number, b: number, c: number, m: number, nv: number, k: number, aRow: number, aStep: number, ldc: number): void;
  /** As `tn`, but adds the product to C. */
  tnAcc(a: number, b: number, c: number, m: number, nv: number, k: number, aRow: number, aStep: number, ldc: number): void;
  /**
   * Packs a transposed A, stored k x m with rows `lda` floats apart, into panels of `rows` columns
   * (the kernel shape's rows), each panel's k rows back to back: the layout `tn` reads with
   * aRow = 4·k, aStep = 4·rows. Reads and writes up to 3 floats past each panel row (slack needed).
   */
  packA(src: number, dst: number, k: number, m: number, lda: number): void;
  /**
   * Packs k rows of the row-major B at `src` (rows `lds` floats apart; 4·nv floats are read from each)
   * into the layout nn/tn read at `dst`: k·4·nv floats, strips of 4·vecs columns with their k rows
   * back to back.
   */
  packB(src: number, dst: number, k: number, nv: number, lds: number): void;
  /**
   * For p < rows (a multiple of 4): the 4 floats at dst + p·dstStride become the p-th floats of the
   * four rows at src, src + srcStride, ... (byte addresses and strides): a transposed B packed into
   * strips 4 columns at a time (transpose-module.ts).
   */
  transpose4(src: number, dst: number, rows: number, srcStride: number, dstStride: number): void;
  /** C (m x n) = A·Bᵀ with A row-major m x k and B row-major n x k. No padding needed anywhere. */
  nt(a: number, b: number, c: number, m: number, n: number, k: number): void;
  /** As `nt`, but adds the product to C (C += A·Bᵀ); C must be followed by 3 readable floats. */
  ntAcc(a: number, b: number, c: number, m: number, n: number, k: number): void;
  /**
   * exp, tanh and sigmoid over n float32s, `op(src, dst, n)` (dst may equal src), with exactly the
   * results of the backend's separate ops: here so that either thread can take a share of a long
   * array (wasm-math.ts).
   */
  mathExp(src: number, dst: number, n: number): void;
  mathTanh(src: number, dst: number, n: number): void;
  mathSigmoid(src: number, dst: number, n: number): void;
}

/** The export of `op` in the matmul module. */
export const MATH_EXPORTS: { readonly [op in MathOp]: 'mathExp' | 'mathTanh' | 'mathSigmoid' } = {
  exp: 'mathExp', tanh: 'mathTanh', sigmoid: 'mathSigmoid',
};

const I32 = 'i32' as const;

function log2(x: number): number {
  const l = Math.log2(x);
  if (!Number.isInteger(l) || l < 0) throw new RangeError(`not a power of two: ${x}`);
  return l;
}

/** Declares `n` locals of `type`. */
function locals(f: FunctionBuilder, type: ValType, n: number): number[] {
  return Array.from({ length: n }, () => f.local(type));
}

/** local[index] += delta (an i32 local, a constant delta). */
function addConst(f: FunctionBuilder, index: number, delta: number): void {
  f.get(index).i32Const(delta).i32Add().set(index);
}

/**
 * Runs `body` `count` times, where `emitCount` pushes the count; zero runs nothing. The test is at
 * the bottom so an iteration costs one decrement and one branch.
 */
function countedLoop(f: FunctionBuilder, counter: number, emitCount: () => void, body: () => void): void {
  emitCount();
  f.tee(counter).if(() => {
    f.loop((top) => {
      body();
      f.get(counter).i32Const(1).i32Sub().tee(counter).brIf(top);
    });
  });
}

/** acc += x·y on v128 locals: one relaxed_madd, or a mul and an add. */
function madd(f: FunctionBuilder, fma: boolean, acc: number, x: number, y: number): void {
  if (fma) f.get(x).get(y).get(acc).f32x4RelaxedMadd().set(acc);
  else f.get(acc).get(x).get(y).f32x4Mul().f32x4Add().set(acc);
}

/**
 * One outer-product block: C[0..rows, 0..4·vecs] = A[0..rows, :]·B[:, 0..4·vecs] at the given
 * pointers, B packed (one strip of 4·vecs columns, its k rows back to back, so every load of B is
 * at a constant offset). Parameters: (a, b, c, k, aRow, aStep, ldc4), strides in bytes.
 * `aRowsAdjacent` selects the transA layout, where row r of the block is at a + 4r and each step of
 * k moves a by aStep; otherwise row r is at a + r·aRow and each step of k moves 4 bytes along it.
 */
function addOuterBlock(
  mod: ModuleBuilder, rows: number, vecs: number, unroll: number, aRowsAdjacent: boolean, accumulate: boolean, fma: boolean,
): number {
  return mod.addFunction(null, [I32, I32, I32, I32, I32, I32, I32], [], (f) => {
    const [a, b, c, k, aRow, aStep, ldc4] = [0, 1, 2, 3, 4, 5, 6] as const;
    const acc = Array.from({ length: rows }, () => locals(f, 'v128', vecs));
    const bv = locals(f, 'v128', vecs);
    const splat = f.local('v128');
    const rowPtr = aRowsAdjacent ? [] : locals(f, I32, rows);
    const counter = f.local(I32);

    for (const row of acc) for (const x of row) f.v128Zero().set(x);
    if (!aRowsAdjacent) {
      f.get(a).set(rowPtr[0]!);
      for (let r = 1; r < rows; r++) f.get(rowPtr[r - 1]!).get(aRow).i32Add().set(rowPtr[r]!);
    }

    // One step of k. Step u of an unrolled iteration reads B at the constant offset u·16·vecs and,
    // with row pointers, A at 4u; the pointers move once per iteration. In the adjacent layout A
    // moves by a runtime stride every step.
    const step = (u: number): void => {
      for (let v = 0; v < vecs; v++) f.get(b).v128Load(16 * (u * vecs + v)).set(bv[v]!);
      for (let r = 0; r < rows; r++) {
        if (aRowsAdjacent) f.get(a).v128Load32Splat(4 * r);
        else f.get(rowPtr[r]!).v128Load32Splat(4 * u);
        f.set(splat);
        for (let v = 0; v < vecs; v++) madd(f, fma, acc[r]![v]!, splat, bv[v]!);
      }
      if (aRowsAdjacent) f.get(a).get(aStep).i32Add().set(a);
    };
    const advance = (steps: number): void => {
      addConst(f, b, 16 * vecs * steps);
      for (const p of rowPtr) addConst(f, p, 4 * steps);
    };

    countedLoop(f, counter, () => f.get(k).i32Const(log2(unroll)).i32ShrU(), () => {
      for (let u = 0; u < unroll; u++) step(u);
      advance(unroll);
    });
    if (unroll > 1) {
      countedLoop(f, counter, () => f.get(k).i32Const(unroll - 1).i32And(), () => {
        step(0);
        advance(1);
      });
    }

    for (let r = 0; r < rows; r++) {
      if (r > 0) f.get(c).get(ldc4).i32Add().set(c);
      for (let v = 0; v < vecs; v++) {
        // Accumulating kernels add the finished product to what C held, the same two-step sum
        // (C + (A·B)) as a separate add would make, so results do not depend on which path ran.
        if (accumulate) f.get(c).get(c).v128Load(16 * v).get(acc[r]![v]!).f32x4Add().v128Store(16 * v);
        else f.get(c).get(acc[r]![v]!).v128Store(16 * v);
      }
    }
  });
}

/**
 * One dot-product block: C[0..rows, 0..cols] = A[0..rows, :]·B[0..cols, :]ᵀ, cols ≤ 4.
 * Parameters: (a, b, c, k, lda4, ldb4, ldc4), strides in bytes.
 */
function addDotBlock(mod: ModuleBuilder, rows: number, cols: number, unroll: number, fma: boolean, accumulate: boolean): number {
  return mod.addFunction(null, [I32, I32, I32, I32, I32, I32, I32], [], (f) => {
    const [a, b, c, k, lda4, ldb4, ldc4] = [0, 1, 2, 3, 4, 5, 6] as const;
    const aPtr = [a as number, ...locals(f, I32, rows - 1)];
    const bPtr = [b as number, ...locals(f, I32, cols - 1)];
    // Four accumulators per row even when cols < 4: the unused ones stay zero, so the horizontal
    // reduction below is the same code for every block width.
    const acc = Array.from({ length: rows }, () => locals(f, 'v128', 4));
    const bv = locals(f, 'v128', cols);
    const av = f.local('v128');
    const u01 = f.local('v128');
    const u23 = f.local('v128');
    const counter = f.local(I32);

    for (let r = 1; r < rows; r++) f.get(aPtr[r - 1]!).get(lda4).i32Add().set(aPtr[r]!);
    for (let s = 1; s < cols; s++) f.get(bPtr[s - 1]!).get(ldb4).i32Add().set(bPtr[s]!);
    for (const row of acc) for (const x of row) f.v128Zero().set(x);

    const step = (offset: number, single: boolean): void => {
      const load = (): void => {
        if (single) f.v128Load32Zero(offset);
        else f.v128Load(offset);
      };
      for (let s = 0; s < cols; s++) {
        f.get(bPtr[s]!);
        load();
        f.set(bv[s]!);
      }
      for (let r = 0; r < rows; r++) {
        f.get(aPtr[r]!);
        load();
        f.set(av);
        for (let s = 0; s < cols; s++) madd(f, fma, acc[r]![s]!, av, bv[s]!);
      }
    };
    const advance = (bytes: number): void => {
      for (const p of [...aPtr, ...bPtr]) addConst(f, p, bytes);
    };

    countedLoop(f, counter, () => f.get(k).i32Const(2 + log2(unroll)).i32ShrU(), () => {
      for (let u = 0; u < unroll; u++) step(16 * u, false);
      advance(16 * unroll);
    });
    if (unroll > 1) {
      countedLoop(f, counter, () => f.get(k).i32Const(2).i32ShrU().i32Const(unroll - 1).i32And(), () => {
        step(0, false);
        advance(16);
      });
    }
    // The last k mod 4 elements, one float per operand in lane 0 (the other lanes add 0·0).
    countedLoop(f, counter, () => f.get(k).i32Const(3).i32And(), () => {
      step(0, true);
      advance(4);
    });

    for (let r = 0; r < rows; r++) {
      const [x0, x1, x2, x3] = acc[r]! as [number, number, number, number];
      if (r > 0) f.get(c).get(ldc4).i32Add().set(c);
      // Interleave pairs and add, twice: lanes of the result are the four full sums in column order.
      f.get(x0).get(x1).f32x4Shuffle([0, 4, 1, 5]).get(x0).get(x1).f32x4Shuffle([2, 6, 3, 7]).f32x4Add().set(u01);
      f.get(x2).get(x3).f32x4Shuffle([0, 4, 1, 5]).get(x2).get(x3).f32x4Shuffle([2, 6, 3, 7]).f32x4Add().set(u23);
      const sums = (): void => {
        f.get(u01).get(u23).f32x4Shuffle([0, 1, 4, 5]).get(u01).get(u23).f32x4Shuffle([2, 3, 6, 7]).f32x4Add();
      };
      // Accumulating: C + (A·B), the order of the outer-product kernels. A narrow block's 16-byte load
      // reads past its columns into the next row or C's slack; only its own lanes are stored back.
      const result = (): void => {
        if (accumulate) f.get(c).v128Load();
        sums();
        if (accumulate) f.f32x4Add();
      };
      if (cols === 4) {
        f.get(c);
        result();
        f.v128Store();
      } else {
        result();
        f.set(av); // av is free again; reuse it for the reduced vector
        for (let s = 0; s < cols; s++) f.get(c).get(av).f32x4ExtractLane(s).f32Store(4 * s);
      }
    }
  });
}

/**
 * Emits `for (pos = 0; total - pos >= full; pos += full) body(full)` and then one `body(w)` for the
 * leftover width w = total - pos (1 ≤ w < full), so every block function is specialised to its
 * width. `total`, `pos` and `rem` are i32 locals; `body` may read `pos`.
 */
function emitTiled(
  f: FunctionBuilder, total: number, pos: number, rem: number, full: number, body: (width: number) => void,
): void {
  f.i32Const(0).set(pos);
  f.block((done) => {
    f.loop((top) => {
      f.get(total).get(pos).i32Sub().i32Const(full).i32LtU().brIf(done);
      body(full);
      addConst(f, pos, full);
      f.br(top);
    });
  });
  f.get(total).get(pos).i32Sub().set(rem);
  for (let w = 1; w < full; w++) f.get(rem).i32Const(w).i32Eq().if(() => body(w));
}

/** The `nn` / `tn` entry point: loops over blocks of C and calls the block functions. */
function addOuterDriver(mod: ModuleBuilder, name: string, shape: KernelShape, aRowsAdjacent: boolean, accumulate: boolean): number {
  const { rows, vecs, unroll, columnsOuter, fma } = shape;
  // blocks[r][v]: a block of r rows and v vectors (index 0 unused).
  const blocks = Array.from({ length: rows + 1 }, (_, r) =>
    Array.from({ length: vecs + 1 }, (_, v) => (r > 0 && v > 0 ? addOuterBlock(mod, r, v, unroll, aRowsAdjacent, accumulate, fma) : -1)));

  return mod.addFunction(name, [I32, I32, I32, I32, I32, I32, I32, I32, I32], [], (f) => {
    const [a, b, c, m, nv, k, aRow, aStep, ldc] = [0, 1, 2, 3, 4, 5, 6, 7, 8] as const;
    const [strip4, ldc4, i, remRows, j, remVecs] = locals(f, I32, 6) as [number, number, number, number, number, number];

    f.get(k).i32Const(4).i32Shl().set(strip4); // bytes of packed B per 4-column vector: k rows of 16
    f.get(ldc).i32Const(2).i32Shl().set(ldc4);

    // The block at row i, vector column j: A at a + i·aRow, B's strip at b + j·k·16 (every strip
    // before it is full width), C at c + i·ldc4 + 16j.
    const callBlock = (r: number, v: number): void => {
      f.get(a).get(i).get(aRow).i32Mul().i32Add();
      f.get(b).get(j).get(strip4).i32Mul().i32Add();
      f.get(c).get(i).get(ldc4).i32Mul().i32Add().get(j).i32Const(4).i32Shl().i32Add();
      f.get(k).get(aRow).get(aStep).get(ldc4).call(blocks[r]![v]!);
    };
    const overRows = (body: (r: number) => void): void => emitTiled(f, m, i, remRows, rows, body);
    const overVecs = (body: (v: number) => void): void => emitTiled(f, nv, j, remVecs, vecs, body);
    if (columnsOuter) overVecs((v) => overRows((r) => callBlock(r, v)));
    else overRows((r) => overVecs((v) => callBlock(r, v)));
  });
}

/**
 * The `packA` entry point: packs a transposed A (stored k x m, rows `lda` floats apart) into panels
 * of `rows` columns, each panel's k rows back to back, so `tn` reads each step's A values from
 * consecutive memory. Parameters: (src, dst, k, m, lda).
 */
function addPackA(mod: ModuleBuilder, rows: number): void {
  mod.addFunction('packA', [I32, I32, I32, I32, I32], [], (f) => {
    const [src, dst, k, m, lda] = [0, 1, 2, 3, 4] as const;
    const [lda4, col, from, counter] = locals(f, I32, 4) as [number, number, number, number];
    f.get(lda).i32Const(2).i32Shl().set(lda4);
    // For each panel of `rows` columns (the last one may run past m: those lanes are never read),
    // copy a vector from each of the k rows; the next copy overwrites what the vector wrote past
    // the panel's width.
    f.i32Const(0).set(col);
    f.block((done) => {
      f.loop((top) => {
        f.get(col).get(m).i32LtU().i32Eqz().brIf(done);
        f.get(src).get(col).i32Const(2).i32Shl().i32Add().set(from);
        countedLoop(f, counter, () => f.get(k), () => {
          f.get(dst).get(from).v128Load().v128Store();
          addConst(f, dst, 4 * rows);
          f.get(from).get(lda4).i32Add().set(from);
        });
        addConst(f, col, rows);
        f.br(top);
      });
    });
  });
}

/**
 * The `packB` entry point: packs k rows of a row-major B (rows `lds` floats apart) into strips of
 * `vecs` 4-column vectors (the last strip narrower when nv is not a multiple of vecs), each strip's k
 * rows back to back: the layout the outer-product blocks read. Parameters: (src, dst, k, nv, lds).
 */
function addPackB(mod: ModuleBuilder, vecs: number): number {
  return mod.addFunction('packB', [I32, I32, I32, I32, I32], [], (f) => {
    const [src, dst, k, nv, lds] = [0, 1, 2, 3, 4] as const;
    const [lds4, j, remVecs, row, counter] = locals(f, I32, 5) as [number, number, number, number, number];
    f.get(lds).i32Const(2).i32Shl().set(lds4);
    emitTiled(f, nv, j, remVecs, vecs, (w) => {
      f.get(src).get(j).i32Const(4).i32Shl().i32Add().set(row);
      countedLoop(f, counter, () => f.get(k), () => {
        for (let v = 0; v < w; v++) f.get(dst).get(row).v128Load(16 * v).v128Store(16 * v);
        addConst(f, dst, 16 * w);
        f.get(row).get(lds4).i32Add().set(row);
      });
    });
  });
}

/** The `nt` entry point: loops over blocks of C and calls the dot-product block functions. */
function addDotDriver(mod: ModuleBuilder, name: string, shape: KernelShape, accumulate: boolean): void {
  const { dotRows: rows, dotUnroll, fma } = shape;
  const blocks = Array.from({ length: rows + 1 }, (_, r) =>
    Array.from({ length: 5 }, (_, s) => (r > 0 && s > 0 ? addDotBlock(mod, r, s, dotUnroll, fma, accumulate) : -1)));

  mod.addFunction(name, [I32, I32, I32, I32, I32, I32], [], (f) => {
    const [a, b, c, m, n, k] = [0, 1, 2, 3, 4, 5] as const;
    const [ld4, ldc4, i, remRows, j, remCols] = locals(f, I32, 6) as
      [number, number, number, number, number, number];

    f.get(k).i32Const(2).i32Shl().set(ld4); // A's and B's rows are both k floats long
    f.get(n).i32Const(2).i32Shl().set(ldc4);

    // The block at row i, column j: A at a + i·ld4, B at b + j·ld4, C at c + i·ldc4 + 4j.
    const callBlock = (r: number, s: number): void => {
      f.get(a).get(i).get(ld4).i32Mul().i32Add();
      f.get(b).get(j).get(ld4).i32Mul().i32Add();
      f.get(c).get(i).get(ldc4).i32Mul().i32Add().get(j).i32Const(2).i32Shl().i32Add();
      f.get(k).get(ld4).get(ld4).get(ldc4).call(blocks[r]![s]!);
    };
    emitTiled(f, m, i, remRows, rows, (r) => emitTiled(f, n, j, remCols, 4, (s) => callBlock(r, s)));
  });
}

/**
 * What an extension's functions may call inside the module (function indices for `call`), and the
 * block shape the matmul kernels were built with (packed B's strip width depends on it).
 */
export interface WasmLibrary {
  readonly shape: KernelShape;
  /** The `nn` kernel: C = A·B with B packed by packB (see MatmulModuleExports.nn for its nine parameters). */
  readonly nn: number;
  /** The `nnAcc` kernel: C += A·B, same parameters as nn. */
  readonly nnAcc: number;
  /** `packB(src, dst, k, nv, lds)`: packs k rows of a row-major B for nn/nnAcc (see MatmulModuleExports.packB). */
  readonly packB: number;
  /**
   * `op(src, dst, n)` over n float32s (dst may equal src), with exactly the float32 results of the
   * backend's separate exp / tanh / sigmoid (the module's own mathExp / mathTanh / mathSigmoid).
   */
  math(op: MathOp): number;
}

/**
 * Functions compiled into the CPU backend's matmul module, so that they run on its memory and its
 * helper thread and call its kernels directly, without JavaScript in between (see wasm-extensions.ts).
 */
export interface WasmModuleExtension {
  /** Unique name, for errors. */
  readonly name: string;
  /** Adds the extension's functions, exported under names no other extension uses. */
  build(mod: ModuleBuilder, lib: WasmLibrary): void;
}

/**
 * The binary matmul module: exports `memory` (initially `memoryPages` 64 KiB pages, grown by the
 * host; with `sharedMaximumPages`, imported from `env.memory` as a shared memory and re-exported),
 * the `nn`, `tn`, `nnAcc`, `tnAcc`, `nt` and `ntAcc` kernels, `packA`, `packB`, `transpose4` and the
 * `mathExp`, `mathTanh` and `mathSigmoid` functions described by {@link MatmulModuleExports}, then the
 * functions of each of `extensions`.
 */
export function buildMatmulModule(
  shape: KernelShape = DEFAULT_KERNEL_SHAPE, memoryPages = 1, sharedMaximumPages?: number, extensions: readonly WasmModuleExtension[] = [],
): Uint8Array {
  const mod = new ModuleBuilder(memoryPages, 'memory', sharedMaximumPages);
  addPackA(mod, shape.rows);
  const packB = addPackB(mod, shape.vecs);
  addTranspose4(mod);
  const nn = addOuterDriver(mod, 'nn', shape, false, false);
  addOuterDriver(mod, 'tn', shape, true, false);
  const nnAcc = addOuterDriver(mod, 'nnAcc', shape, false, true);
  addOuterDriver(mod, 'tnAcc', shape, true, true);
  addDotDriver(mod, 'nt', shape, false);
  addDotDriver(mod, 'ntAcc', shape, true);
  const mathFunctions = new Map<MathOp, number>();
  for (const op of MATH_OPS) mathFunctions.set(op, addOpFunction(mod, MATH_EXPORTS[op], op, DEFAULT_MATH_UNROLL, false));
  const lib: WasmLibrary = { shape, nn, nnAcc, packB, math: (op) => mathFunctions.get(op)! };
  for (const extension of extensions) extension.build(mod, lib);
  return mod.toBytes();
}
