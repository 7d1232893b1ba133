/*
 * The whole-sequence recurrences in WebAssembly: one call runs every time step of a layer and direction
 * for a piece of the batch rows (sequence-wasm.ts hands pieces of a few rows to the CPU backend's two threads).
 * Compiled into the backend's matmul module (registerWasmExtension), so each step's recurrent product is
 * a direct call of its `nn` / `nnAcc` kernels on W_hh packed once per call, and the gate functions are
 * its exp-based sigmoid and tanh, which round exactly as the backend's separate ops do. The equations
 * are those of sequence-host.ts; the layouts too, walked with pointers that the host sets to the first
 * step processed and moves by a signed stride per step (negative for a reverse direction).
 *
 * Every entry point takes one argument, the byte address of an i32 parameter block (PARAMS). All
 * addresses are bytes; `rowH` below is a row of H floats, 4·H bytes. H must be a multiple of 4.
 */
import type { FunctionBuilder, ModuleBuilder, WasmLibrary, WasmModuleExtension } from '@tinytape/tensor';

/** Slots of the parameter block, in i32s. */
export const PARAMS = {
  /** Forward: xp of the first step processed (only read); backward: g. */
  input: 0, inputStep: 1,
  /** Forward: the states; backward: dPre (dXp for the GRU). */
  out: 2, outStep: 3,
  /** What the GRU and LSTM save per row ([r, z, n, hn] or [i, f, g, o, c]). */
  saved: 4, savedStep: 5,
  /** Initial hidden state (forward), the GRU's states (backward; its dHp follows at `extra`). */
  h0: 6, statesStep: 7,
  /** LSTM: c0; GRU forward: b_hh; GRU backward: dHp (moving as `out`). */
  extra: 8,
  /** W_hh packed for nn: W_hhᵀ [H, G·H] forward, W_hh [G·H, H] backward. */
  w: 9,
  rows: 10, steps: 11, hidden: 12, relu: 13,
  /**
   * This piece's scratch: backward carries [rows, H] (two for the LSTM); forward the GRU's hp
   * [rows, 3H] and the LSTM's pre-activations [rows, 4H].
   */
  scratch: 14,
  /** Backward: the states of the first step processed (GRU), h0 rows (GRU). */
  states: 15,
} as const;

/** Size of a parameter block in i32s. */
export const PARAM_INTS = 16;

/** The exported entry points, one per cell and direction of the pass. */
export const ENTRY = {
  rnnForward: 'tinytapeRnnSequence', gruForward: 'tinytapeGruSequence', lstmForward: 'tinytapeLstmSequence',
  rnnBackward: 'tinytapeRnnSequenceBackward', gruBackward: 'tinytapeGruSequenceBackward', lstmBackward: 'tinytapeLstmSequenceBackward',
} as const;

type Params = Record<keyof typeof PARAMS, number>;

/** Declares an i32 local per parameter and loads the block into them. */
function loadParams(f: FunctionBuilder): Params {
  const out = {} as Params;
  for (const [name, slot] of Object.entries(PARAMS) as [keyof typeof PARAMS, number][]) {
    out[name] = f.local('i32');
    f.get(0).i32Load(4 * slot).set(out[name]);
  }
  return out;
}

/** Declares `n` i32 locals. */
function i32s(f: FunctionBuilder, n: number): number[] {
  return Array.from({ length: n }, () => f.local('i32'));
}

/** local = a + b·k (a, b locals, k a constant). */
function setSum(f: FunctionBuilder, local: number, a: number, b: number, k = 1): void {
  f.get(a).get(b);
  if (k !== 1) f.i32Const(k).i32Mul();
  f.i32Add().set(local);
}

/** for (i = 0; i < limit; i += step) body(), with i and limit i32 locals (a limit of zero runs nothing). */
function countUp(f: FunctionBuilder, i: number, limit: number, step: number, body: () => void): void {
  f.i32Const(0).set(i);
  f.block((done) => {
    f.loop((top) => {
      f.get(i).get(limit).i32LtU().i32Eqz().brIf(done);
      body();
      f.get(i).i32Const(step).i32Add().set(i);
      f.br(top);
    });
  });
}

/** for (i = 0; i < count; i++) body(). */
function repeat(f: FunctionBuilder, i: number, count: number, body: () => void): void {
  countUp(f, i, count, 1, body);
}

/** for (o = 0; o < bytes; o += 16) body(): over the 4-float vectors of `bytes` (a local) bytes. */
function vectors(f: FunctionBuilder, o: number, bytes: number, body: () => void): void {
  countUp(f, o, bytes, 16, body);
}

/** local = base + r·stride: the address of row r (all i32 locals; stride in bytes). */
function rowAt(f: FunctionBuilder, local: number, base: number, r: number, stride: number): void {
  f.get(base).get(r).get(stride).i32Mul().i32Add().set(local);
}

/** Pushes the vector at ptr + o (+ offset, a local or 0). */
function load(f: FunctionBuilder, ptr: number, o: number, offset?: number): FunctionBuilder {
  f.get(ptr).get(o).i32Add();
  if (offset !== undefined) f.get(offset).i32Add();
  return f.v128Load();
}

/** Pushes the address ptr + o (+ offset) for a store; the value follows, then `f.v128Store()`. */
function at(f: FunctionBuilder, ptr: number, o: number, offset?: number): FunctionBuilder {
  f.get(ptr).get(o).i32Add();
  if (offset !== undefined) f.get(offset).i32Add();
  return f;
}

/** The nine arguments of an nn / nnAcc call: C(rows x 4·nv) (+)= A(rows x k, rows aRow bytes apart)·B. */
function callMatmul(f: FunctionBuilder, fn: number, a: number, b: number, c: number, rows: number, nv: number, k: number, aRow: number, ldc: number): void {
  // nv (4-float vectors of C per row) = ldc / 4 here: C's rows are exactly its width.
  f.get(a).get(b).get(c).get(rows).get(nv).get(k).get(aRow).i32Const(4).get(ldc).call(fn);
}

/** Forward of all three cells: the step loop around `cell`, which computes one step's rows. */
function addForward(mod: ModuleBuilder, lib: WasmLibrary, name: string, gates: number, savedWidth: number, cell: CellEmitter): void {
  mod.addFunction(name, ['i32'], [], (f) => {
    const p = loadParams(f);
    const [s, rowH, gh, nv, prevH, prevC, prevCRow] = i32s(f, 7) as [number, number, number, number, number, number, number];
    f.get(p.hidden).i32Const(4).i32Mul().set(rowH);
    f.get(p.hidden).i32Const(gates).i32Mul().set(gh);
    f.get(gh).i32Const(2).i32ShrU().set(nv); // G·H/4 vectors: H is a multiple of 4
    f.get(p.h0).set(prevH);
    f.get(p.extra).set(prevC); // the LSTM's c0 (other cells ignore prevC)
    f.get(rowH).set(prevCRow);
    repeat(f, s, p.steps, () => {
      cell({ f, lib, p, rowH, gh, nv, prevH, prevC, prevCRow });
      // This step's states are the next step's previous ones (rows of H floats, like h0's).
      f.get(p.out).set(prevH);
      if (savedWidth === 5) {
        f.get(p.saved).get(rowH).i32Const(4).i32Mul().i32Add().set(prevC);
        f.get(rowH).i32Const(5).i32Mul().set(prevCRow);
      }
      for (const [ptr, step] of [[p.input, p.inputStep], [p.out, p.outStep], [p.saved, p.savedStep]] as const) setSum(f, ptr, ptr, step);
    });
  });
}

interface CellContext {
  f: FunctionBuilder;
  lib: WasmLibrary;
  p: Params;
  /** 4·H: bytes of a row of H floats. */
  rowH: number;
  /** G·H floats. */
  gh: number;
  /** G·H / 4. */
  nv: number;
  prevH: number;
  /** The LSTM's previous cell state and the byte distance between its rows. */
  prevC: number;
  prevCRow: number;
}

type CellEmitter = (c: CellContext) => void;

/** to[o] = from[o] for the `bytes` (a local) bytes of a block: a step's rows of xp into a block the step may write. */
function copyBlock(f: FunctionBuilder, to: number, from: number, bytes: number): void {
  const o = f.local('i32');
  vectors(f, o, bytes, () => {
    at(f, to, o);
    load(f, from, o).v128Store();
  });
}

/**
 * RNN step: pre = xp + h·W_hhᵀ formed in the step's rows of the states (xp copied there, the product
 * added), then h = tanh(pre) or relu(pre) in place. xp itself is only read, so the host may pass the
 * caller's buffer.
 */
const rnnForwardStep: CellEmitter = ({ f, lib, p, rowH, gh, nv, prevH }) => {
  const [n, o, bytes] = i32s(f, 3) as [number, number, number];
  f.get(p.rows).get(p.hidden).i32Mul().set(n);
  f.get(n).i32Const(4).i32Mul().set(bytes);
  copyBlock(f, p.out, p.input, bytes);
  callMatmul(f, lib.nnAcc, prevH, p.w, p.out, p.rows, nv, p.hidden, rowH, gh);
  f.get(p.relu).i32Eqz().if(() => f.get(p.out).get(p.out).get(n).call(lib.math('tanh')));
  f.get(p.relu).if(() => {
    vectors(f, o, bytes, () => {
      at(f, p.out, o);
      load(f, p.out, o).f32x4Const(0).f32x4Max().v128Store();
    });
  });
};

/** GRU step: hp = b_hh + h·W_hhᵀ; r, z = σ(xp + hp); n = tanh(xn + r·hn); h' = n + z(h − n). */
const gruForwardStep: CellEmitter = ({ f, lib, p, rowH, gh, nv, prevH }) => {
  const [r, o, hp, x, sv, h, ph, twoH, threeH, rowBytes] = i32s(f, 10) as number[] as [number, number, number, number, number, number, number, number, number, number];
  f.get(rowH).i32Const(2).i32Mul().set(twoH);
  f.get(rowH).i32Const(3).i32Mul().set(threeH);
  // Each row of hp starts as b_hh; the product adds to it.
  repeat(f, r, p.rows, () => {
    rowAt(f, hp, p.scratch, r, threeH);
    vectors(f, o, threeH, () => {
      at(f, hp, o);
      load(f, p.extra, o).v128Store();
    });
  });
  callMatmul(f, lib.nnAcc, prevH, p.w, p.scratch, p.rows, nv, p.hidden, rowH, gh);
  f.get(rowH).i32Const(4).i32Mul().set(rowBytes); // a saved row: 4H floats
  repeat(f, r, p.rows, () => {
    rowAt(f, hp, p.scratch, r, threeH);
    rowAt(f, x, p.input, r, threeH);
    rowAt(f, sv, p.saved, r, rowBytes);
    rowAt(f, h, p.out, r, rowH);
    rowAt(f, ph, prevH, r, rowH);
    vectors(f, o, twoH, () => {
      at(f, sv, o);
      load(f, x, o);
      load(f, hp, o).f32x4Add().v128Store();
    });
    f.get(sv).get(sv).get(p.hidden).i32Const(2).i32Mul().call(lib.math('sigmoid'));
    vectors(f, o, rowH, () => {
      at(f, sv, o, threeH); // saved hn
      load(f, hp, o, twoH).v128Store();
      at(f, sv, o, twoH); // xn + r·hn
      load(f, x, o, twoH);
      load(f, sv, o);
      load(f, hp, o, twoH).f32x4Mul().f32x4Add().v128Store();
    });
    f.get(sv).get(twoH).i32Add().tee(o).get(o).get(p.hidden).call(lib.math('tanh'));
    vectors(f, o, rowH, () => {
      // n + z·(h − n)
      at(f, h, o);
      load(f, sv, o, twoH);
      load(f, sv, o, rowH);
      load(f, ph, o);
      load(f, sv, o, twoH).f32x4Sub().f32x4Mul().f32x4Add().v128Store();
    });
  });
};

/**
 * LSTM step: pre = xp + h·W_hhᵀ (in the piece's scratch: xp is only read); i, f, o = σ, g = tanh;
 * c' = f·c + i·g; h' = o·tanh(c').
 */
const lstmForwardStep: CellEmitter = ({ f, lib, p, rowH, gh, nv, prevH, prevC, prevCRow }) => {
  const [r, o, x, sv, h, pc, twoH, threeH, fourH, rowBytes] = i32s(f, 10) as number[] as [number, number, number, number, number, number, number, number, number, number];
  f.get(rowH).i32Const(2).i32Mul().set(twoH);
  f.get(rowH).i32Const(3).i32Mul().set(threeH);
  f.get(rowH).i32Const(4).i32Mul().set(fourH);
  f.get(rowH).i32Const(5).i32Mul().set(rowBytes);
  const block = f.local('i32');
  f.get(p.rows).get(fourH).i32Mul().set(block);
  copyBlock(f, p.scratch, p.input, block);
  callMatmul(f, lib.nnAcc, prevH, p.w, p.scratch, p.rows, nv, p.hidden, rowH, gh);
  repeat(f, r, p.rows, () => {
    rowAt(f, x, p.scratch, r, fourH);
    rowAt(f, sv, p.saved, r, rowBytes);
    rowAt(f, h, p.out, r, rowH);
    rowAt(f, pc, prevC, r, prevCRow);
    f.get(x).get(sv).get(p.hidden).i32Const(2).i32Mul().call(lib.math('sigmoid'));
    f.get(x).get(twoH).i32Add().get(sv).get(twoH).i32Add().get(p.hidden).call(lib.math('tanh'));
    f.get(x).get(threeH).i32Add().get(sv).get(threeH).i32Add().get(p.hidden).call(lib.math('sigmoid'));
    vectors(f, o, rowH, () => {
      at(f, sv, o, fourH); // c' = f·c + i·g
      load(f, sv, o, rowH);
      load(f, pc, o).f32x4Mul();
      load(f, sv, o);
      load(f, sv, o, twoH).f32x4Mul().f32x4Add().v128Store();
    });
    f.get(sv).get(fourH).i32Add().get(h).get(p.hidden).call(lib.math('tanh'));
    vectors(f, o, rowH, () => {
      at(f, h, o);
      load(f, h, o);
      load(f, sv, o, threeH).f32x4Mul().v128Store();
    });
  });
};

export { addForward, rnnForwardStep, gruForwardStep, lstmForwardStep, i32s, repeat, vectors, load, at, callMatmul, loadParams, rowAt, setSum };
export type { CellContext, Params };

/** The extension: every forward and backward entry point (backward ones in sequence-wasm-backward.ts). */
export function sequenceExtension(addBackward: (mod: ModuleBuilder, lib: WasmLibrary) => void): WasmModuleExtension {
  return {
    name: 'tinytape-rnn-sequence',
    build(mod, lib) {
      addForward(mod, lib, ENTRY.rnnForward, 1, 0, rnnForwardStep);
      addForward(mod, lib, ENTRY.gruForward, 3, 4, gruForwardStep);
      addForward(mod, lib, ENTRY.lstmForward, 4, 5, lstmForwardStep);
      addBackward(mod, lib);
    },
  };
}
