/*
 * The one-hot input projection's row work in wasm, for the CPU device (token-projection.ts).
 * `sumRows` adds every row of g [n, width] into a bias gradient and, with tokens, also into row
 * tokens[r] of a [vocab, width] table (the projection's weight gradient, transposed). Each sum runs
 * over the rows in order in float32, the order and rounding of the plain loops and of the WebGPU
 * threads, so the results are the same bit for bit; only the loop is vectorised, four columns at a
 * time. `gatherRows` is the forward: out[r] = table[tokens[r]], a row copy per token.
 */
import { type FunctionBuilder, registerWasmExtension, wasmRuntime } from '@tinytape/tensor';
import { repeat, vectors } from './sequence-wasm-module.ts';

const ENTRY = 'tinytapeSumRows';
const GATHER = 'tinytapeGatherRows';

registerWasmExtension({
  name: 'tinytape-rnn-row-sums',
  build(mod) {
    // (g, tokens, table, bias, n, width, vocab): tokens is an i32 per row (time-major), or ignored when vocab is 0.
    mod.addFunction(ENTRY, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f: FunctionBuilder) => {
      const [g, tokens, table, bias, n, width, vocab] = [0, 1, 2, 3, 4, 5, 6] as const;
      const [r, o, bytes, tok, dst] = Array.from({ length: 5 }, () => f.local('i32')) as [number, number, number, number, number];
      f.get(width).i32Const(4).i32Mul().set(bytes);
      // to[o] += g[o] over the row's vectors
      const overColumns = (to: number): void => vectors(f, o, bytes, () => {
        f.get(to).get(o).i32Add();
        f.get(to).get(o).i32Add().v128Load();
        f.get(g).get(o).i32Add().v128Load().f32x4Add().v128Store();
      });
      repeat(f, r, n, () => {
        overColumns(bias);
        f.get(tokens).get(r).i32Const(4).i32Mul().i32Add().i32Load().set(tok);
        // A token outside [0, vocab) (unsigned compare: negatives too) adds to the bias only.
        f.get(tok).get(vocab).i32LtU().if(() => {
          f.get(table).get(tok).get(bytes).i32Mul().i32Add().set(dst);
          overColumns(dst);
        });
        f.get(g).get(bytes).i32Add().set(g);
      });
    });
    // (table, tokens, out, n, width, vocab): out row r = table row tokens[r], or row vocab (the bias
    // alone) for a token outside [0, vocab).
    mod.addFunction(GATHER, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f: FunctionBuilder) => {
      const [table, tokens, out, n, width, vocab] = [0, 1, 2, 3, 4, 5] as const;
      const [r, o, bytes, tok, src] = Array.from({ length: 5 }, () => f.local('i32')) as [number, number, number, number, number];
      f.get(width).i32Const(4).i32Mul().set(bytes);
      repeat(f, r, n, () => {
        f.get(tokens).get(r).i32Const(4).i32Mul().i32Add().i32Load().set(tok);
        f.get(tok).get(vocab).i32LtU().i32Eqz().if(() => f.get(vocab).set(tok));
        f.get(table).get(tok).get(bytes).i32Mul().i32Add().set(src);
        vectors(f, o, bytes, () => {
          f.get(out).get(o).i32Add();
          f.get(src).get(o).i32Add().v128Load().v128Store();
        });
        f.get(out).get(bytes).i32Add().set(out);
      });
    });
  },
});

/**
 * Bias = Σ_r g[r] and, with `tokens` (one per row), table[tokens[r]] += g[r] for tokens in [0, vocab);
 * `width` a multiple of 4. Writes `bias` [width] and `table` [vocab, width] (when given) and returns
 * true, or returns false without wasm (the caller then runs its plain loop).
 */
export function sumRowsWasm(g: Float32Array, n: number, width: number, bias: Float32Array, tokens?: Int32Array, table?: Float32Array, vocab = 0): boolean {
  const rt = width % 4 === 0 ? wasmRuntime(ENTRY) : null;
  if (rt === null) return false;
  const tableFloats = tokens === undefined ? 0 : vocab * width;
  const rows = g.subarray(0, n * width);
  const gInPlace = rt.addressOf(rows); // g read where it is when it is a backend buffer in the memory
  const gFloats = gInPlace >= 0 ? 0 : n * width; // else copied into scratch first
  const [gAt, tokAt, tableAt, biasAt] = [0, gFloats, gFloats + n + 4, gFloats + n + 4 + tableFloats].map((x) => rt.base + Math.ceil(x / 4) * 4);
  const view = rt.reserve(biasAt - rt.base + width);
  if (view === null) return false;
  if (gInPlace < 0) view.set(rows, gAt!);
  view.fill(0, tableAt!, biasAt! + width);
  if (tokens !== undefined) new Int32Array(view.buffer).set(tokens.subarray(0, n), tokAt!);
  rt.call(ENTRY, gInPlace >= 0 ? gInPlace : gAt! * 4, tokAt! * 4, tableAt! * 4, biasAt! * 4, n, width, tokens === undefined ? 0 : vocab);
  bias.set(view.subarray(biasAt!, biasAt! + width));
  table?.set(view.subarray(tableAt!, tableAt! + tableFloats));
  return true;
}

/**
 * out[r] = table[tokens[r]] for r < n, rows of `width` floats (a multiple of 4); `table` holds vocab + 1
 * rows, the last for tokens outside [0, vocab). Writes `out` in place when it is a backend buffer in
 * the wasm memory, else through scratch. Returns false without wasm (the caller runs its plain loop).
 */
export function gatherRowsWasm(table: Float32Array, tokens: Int32Array, out: Float32Array, n: number, width: number, vocab: number): boolean {
  const rt = width % 4 === 0 ? wasmRuntime(GATHER) : null;
  if (rt === null) return false;
  const rows = out.subarray(0, n * width);
  const outInPlace = rt.addressOf(rows);
  const [tableAt, tokAt, outAt] = [0, (vocab + 1) * width, (vocab + 1) * width + n].map((x) => rt.base + Math.ceil(x / 4) * 4);
  const view = rt.reserve(outAt! - rt.base + (outInPlace >= 0 ? 0 : n * width));
  if (view === null) return false;
  view.set(table.subarray(0, (vocab + 1) * width), tableAt!);
  new Int32Array(view.buffer).set(tokens.subarray(0, n), tokAt!);
  rt.call(GATHER, tableAt! * 4, tokAt! * 4, outInPlace >= 0 ? outInPlace : outAt! * 4, n, width, vocab);
  if (outInPlace < 0) rows.set(view.subarray(outAt!, outAt! + n * width));
  return true;
}
