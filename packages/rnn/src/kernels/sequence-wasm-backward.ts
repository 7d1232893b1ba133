/*
 * The backward passes of the wasm whole-sequence recurrences (sequence-wasm-module.ts has the forward
 * ones and the helpers): walking time in reverse for a piece of the batch rows, each step turns the
 * state's gradient into the step's pre-activation gradients (the equations of sequence-host.ts), then
 * carries dh to the previous step with one product by W_hh (packed for nn as [G·H, H]). The carries
 * live in the piece's scratch: dh [rows, H] (the host zeroes it), and for the LSTM dc [rows, H] (the
 * host seeds it with the final cell state's gradient or zeros) and one row for tanh(c).
 */
import type { FunctionBuilder, ModuleBuilder, WasmLibrary } from '@tinytape/tensor';
import { ENTRY, type Params, at, callMatmul, i32s, load, loadParams, repeat, rowAt, setSum, vectors } from './sequence-wasm-module.ts';

/** Byte offsets of the gate blocks in a row: k·4H for k = 0..4 (k = 0 is the row itself). */
function blockOffsets(f: FunctionBuilder, rowH: number): number[] {
  const out = i32s(f, 5);
  out.forEach((local, k) => f.get(rowH).i32Const(k).i32Mul().set(local));
  return out;
}

/** Declares `n` v128 locals. */
function v128s(f: FunctionBuilder, n: number): number[] {
  return Array.from({ length: n }, () => f.local('v128'));
}

/** The step loop of every backward pass around `step`, then the pointers moved to the previous step. */
function addBackward(
  mod: ModuleBuilder, name: string, gates: number,
  step: (f: FunctionBuilder, p: Params, rowH: number, blocks: number[], left: number) => void,
  moves: (p: Params) => [number, number][],
  product: { lib: WasmLibrary; accumulate: boolean },
): void {
  mod.addFunction(name, ['i32'], [], (f) => {
    const p = loadParams(f);
    const [left, rowH, nv, kGates, dRow] = i32s(f, 5) as [number, number, number, number, number];
    f.get(p.hidden).i32Const(4).i32Mul().set(rowH);
    f.get(p.hidden).i32Const(2).i32ShrU().set(nv);
    f.get(p.hidden).i32Const(gates).i32Mul().set(kGates);
    f.get(rowH).i32Const(gates).i32Mul().set(dRow);
    const blocks = blockOffsets(f, rowH);
    // left counts the steps still to run, this one included: the previous state is the initial one at 1.
    f.get(p.steps).set(left);
    f.block((done) => {
      f.loop((top) => {
        f.get(left).i32Eqz().brIf(done);
        step(f, p, rowH, blocks, left);
        // dh for the previous step: this step's pre-activation gradients times W_hh.
        const d = gates === 3 ? p.extra : p.out; // the GRU carries through dHp
        callMatmul(f, product.accumulate ? product.lib.nnAcc : product.lib.nn, d, p.w, p.scratch, p.rows, nv, kGates, dRow, p.hidden);
        for (const [ptr, by] of moves(p)) setSum(f, ptr, ptr, by);
        f.get(left).i32Const(1).i32Sub().set(left);
        f.br(top);
      });
    });
  });
}

/** RNN: da = (g + dh)·(1 − h²), or where h > 0 for relu, over the whole [rows, H] block. */
function rnnStep(f: FunctionBuilder, p: Params, rowH: number): void {
  const [o, bytes] = i32s(f, 2) as [number, number];
  const [dh, h] = v128s(f, 2) as [number, number];
  f.get(p.rows).get(rowH).i32Mul().set(bytes);
  vectors(f, o, bytes, () => {
    load(f, p.input, o);
    load(f, p.scratch, o).f32x4Add().set(dh);
    load(f, p.saved, o).set(h); // the step's own states
    at(f, p.out, o);
    f.get(p.relu).if(() => f.get(dh).get(h).f32x4Const(0).f32x4Gt().v128And().set(dh));
    f.get(p.relu).i32Eqz().if(() => f.get(dh).f32x4Const(1).get(h).get(h).f32x4Mul().f32x4Sub().f32x4Mul().set(dh));
    f.get(dh).v128Store();
  });
}

/** GRU: [dr, dz, dn] for the input projection, [dr, dz, dn·r] for the recurrent one, dh·z carried. */
function gruStep(f: FunctionBuilder, p: Params, rowH: number, blocks: number[], left: number): void {
  const [r, o, g, carry, sv, dx, dhp, prev] = i32s(f, 8) as number[] as [number, number, number, number, number, number, number, number];
  const [dh, rv, z, n, hn, hp, dn, dz, dr, one] = v128s(f, 10) as number[] as [number, number, number, number, number, number, number, number, number, number];
  const [, b1, b2, b3, b4] = blocks as [number, number, number, number, number];
  f.f32x4Const(1).set(one);
  repeat(f, r, p.rows, () => {
    rowAt(f, g, p.input, r, rowH);
    rowAt(f, carry, p.scratch, r, rowH);
    rowAt(f, sv, p.saved, r, b4);
    rowAt(f, dx, p.out, r, b3);
    rowAt(f, dhp, p.extra, r, b3);
    // The previous state: the states of the step before, or h0 at the first step.
    f.get(left).i32Const(1).i32Eq().if(() => rowAt(f, prev, p.h0, r, rowH));
    f.get(left).i32Const(1).i32Eq().i32Eqz().if(() => rowAt(f, prev, p.states, r, rowH));
    vectors(f, o, rowH, () => {
      load(f, g, o);
      load(f, carry, o).f32x4Add().set(dh);
      load(f, sv, o).set(rv);
      load(f, sv, o, b1).set(z);
      load(f, sv, o, b2).set(n);
      load(f, sv, o, b3).set(hn);
      load(f, prev, o).set(hp);
      // dn = dh(1 − z)(1 − n²); dz = dh(h − n)z(1 − z); dr = dn·hn·r(1 − r)
      f.get(dh).get(one).get(z).f32x4Sub().f32x4Mul().get(one).get(n).get(n).f32x4Mul().f32x4Sub().f32x4Mul().set(dn);
      f.get(dh).get(hp).get(n).f32x4Sub().f32x4Mul().get(z).f32x4Mul().get(one).get(z).f32x4Sub().f32x4Mul().set(dz);
      f.get(dn).get(hn).f32x4Mul().get(rv).f32x4Mul().get(one).get(rv).f32x4Sub().f32x4Mul().set(dr);
      at(f, dx, o).get(dr).v128Store();
      at(f, dx, o, b1).get(dz).v128Store();
      at(f, dx, o, b2).get(dn).v128Store();
      at(f, dhp, o).get(dr).v128Store();
      at(f, dhp, o, b1).get(dz).v128Store();
      at(f, dhp, o, b2).get(dn).get(rv).f32x4Mul().v128Store();
      at(f, carry, o).get(dh).get(z).f32x4Mul().v128Store();
    });
  });
}

/** LSTM: the four gates' gradients from dh (carried plus g) and dc (carried), dc·f carried on. */
function lstmStep(lib: WasmLibrary) {
  return (f: FunctionBuilder, p: Params, rowH: number, blocks: number[], left: number): void => {
    const [r, o, g, carryH, carryC, tmp, sv, d, cp, cpRow, cpBase] = i32s(f, 11) as number[] as
      [number, number, number, number, number, number, number, number, number, number, number];
    const [dh, i, fg, gg, og, tc, dc, one] = v128s(f, 8) as number[] as [number, number, number, number, number, number, number, number];
    const [, b1, b2, b3, b4] = blocks as [number, number, number, number, number];
    f.f32x4Const(1).set(one);
    // The previous cell state: c0 at the first step, else the c block of the step before.
    f.get(left).i32Const(1).i32Eq().if(() => {
      f.get(p.extra).set(cpBase);
      f.get(rowH).set(cpRow);
    });
    f.get(left).i32Const(1).i32Eq().i32Eqz().if(() => {
      f.get(p.saved).get(p.savedStep).i32Add().get(b4).i32Add().set(cpBase);
      f.get(rowH).i32Const(5).i32Mul().set(cpRow);
    });
    f.get(p.scratch).get(p.rows).get(rowH).i32Mul().i32Const(2).i32Mul().i32Add().set(tmp);
    repeat(f, r, p.rows, () => {
      rowAt(f, g, p.input, r, rowH);
      rowAt(f, carryH, p.scratch, r, rowH);
      f.get(carryH).get(p.rows).get(rowH).i32Mul().i32Add().set(carryC);
      f.get(p.saved).get(r).get(rowH).i32Const(5).i32Mul().i32Mul().i32Add().set(sv);
      rowAt(f, d, p.out, r, b4);
      rowAt(f, cp, cpBase, r, cpRow);
      f.get(sv).get(b4).i32Add().get(tmp).get(p.hidden).call(lib.math('tanh'));
      vectors(f, o, rowH, () => {
        load(f, g, o);
        load(f, carryH, o).f32x4Add().set(dh);
        load(f, sv, o).set(i);
        load(f, sv, o, b1).set(fg);
        load(f, sv, o, b2).set(gg);
        load(f, sv, o, b3).set(og);
        load(f, tmp, o).set(tc);
        // dc = carried + dh·o(1 − tanh²c)
        load(f, carryC, o).get(dh).get(og).f32x4Mul().get(one).get(tc).get(tc).f32x4Mul().f32x4Sub().f32x4Mul().f32x4Add().set(dc);
        at(f, d, o).get(dc).get(gg).f32x4Mul().get(i).f32x4Mul().get(one).get(i).f32x4Sub().f32x4Mul().v128Store();
        at(f, d, o, b1).get(dc);
        load(f, cp, o).f32x4Mul().get(fg).f32x4Mul().get(one).get(fg).f32x4Sub().f32x4Mul().v128Store();
        at(f, d, o, b2).get(dc).get(i).f32x4Mul().get(one).get(gg).get(gg).f32x4Mul().f32x4Sub().f32x4Mul().v128Store();
        at(f, d, o, b3).get(dh).get(tc).f32x4Mul().get(og).f32x4Mul().get(one).get(og).f32x4Sub().f32x4Mul().v128Store();
        at(f, carryC, o).get(dc).get(fg).f32x4Mul().v128Store();
      });
    });
  };
}

/** Adds the three backward entry points. */
export function addSequenceBackward(mod: ModuleBuilder, lib: WasmLibrary): void {
  addBackward(mod, ENTRY.rnnBackward, 1, (f, p, rowH) => rnnStep(f, p, rowH),
    (p) => [[p.input, p.inputStep], [p.out, p.outStep], [p.saved, p.savedStep]], { lib, accumulate: false });
  addBackward(mod, ENTRY.gruBackward, 3, gruStep,
    (p) => [[p.input, p.inputStep], [p.out, p.outStep], [p.extra, p.outStep], [p.saved, p.savedStep], [p.states, p.statesStep]],
    { lib, accumulate: true });
  addBackward(mod, ENTRY.lstmBackward, 4, lstmStep(lib),
    (p) => [[p.input, p.inputStep], [p.out, p.outStep], [p.saved, p.savedStep]], { lib, accumulate: false });
}
