/*
 * The `wasm` versions of the whole-sequence kernels (sequence-kernels.ts) for the CPU device: each
 * places its inputs in the backend's wasm memory (where they are, for the backend's buffers that live
 * there, else copied in), makes one call per thread that runs every time step (sequence-wasm-module.ts,
 * sequence-wasm-backward.ts), and leaves the results in place or copies them out. The batch
 * rows of a recurrence are independent, so the two threads claim pieces of a few rows each and run
 * every step of them, meeting only at the end: no synchronisation between steps, no JavaScript per
 * step. W_hh is packed once per
 * call for the matmul kernels (forward as W_hhᵀ, backward as W_hh). The recurrent weight's gradient
 * is two products over all steps on the backend's matmul, with the subarrays of the states as they
 * are (no shifted copy). Where wasm or its SIMD is missing, or H is not a multiple of 4, the plain
 * loops of sequence-host.ts run instead.
 */
import { type HostKernel, type HostKernelArgs, type WasmRuntime, registerWasmExtension, wasmRuntime } from '@tinytape/tensor';
import {
  type LstmBackwardParams, type SequenceParams, type WeightGradParams, gruBackwardHost, gruForwardHost, lstmBackwardHost, lstmForwardHost,
  rnnBackwardHost, rnnForwardHost, weightGradHost,
} from './sequence-host.ts';
import { sumRowsWasm } from './row-sums-wasm.ts';
import { addSequenceBackward } from './sequence-wasm-backward.ts';
import { ENTRY, PARAM_INTS, PARAMS, sequenceExtension } from './sequence-wasm-module.ts';

const EXTENSION = sequenceExtension(addSequenceBackward);
registerWasmExtension(EXTENSION);

/** The runtime with the sequence functions in it, when they can run a layer of `hidden` units. */
function runtimeFor(hidden: number): WasmRuntime | null {
  return hidden % 4 === 0 ? wasmRuntime(ENTRY.lstmForward) : null;
}

/**
 * Most floats of wasm memory a sequence kernel may need (512 MiB): past it, the CPU device's default
 * path is the per-step 'sequence' one, whose memory is per step, rather than the plain loops these
 * kernels fall back to when the memory cannot grow.
 */
const MAX_SEQUENCE_FLOATS = 2 ** 27;

/**
 * Whether the CPU device runs the whole-sequence kernels in wasm for a layer of `hidden` units over
 * `rows` (steps x batch) rows: wasm SIMD is there, H is a multiple of 4, and the largest pass (the
 * LSTM's: about 10 floats per row and unit, and two copies of W_hh) fits MAX_SEQUENCE_FLOATS.
 */
export function wasmSequenceAvailable(hidden: number, rows = 0): boolean {
  return 10 * rows * hidden + 8 * hidden * hidden <= MAX_SEQUENCE_FLOATS && runtimeFor(hidden) !== null;
}

/** Hands out 16-byte-aligned regions of floats from the runtime's base. */
class Regions {
  total = 0;
  take(floats: number): number {
    const at = this.total;
    this.total += Math.ceil(floats / 4) * 4 + 4;
    return at;
  }
}

/**
 * A recurrence whose per-step product (batch x G·H x H) has fewer multiply-adds than `minStepMacs` runs on one
 * thread, as the backend's matmul does below the same size: handing half of it to the helper saves
 * less than the helper costs, which then spins through the rest of the training step on the second
 * core. Measured on the forward kernel alone (B = 32, T = 35), two halves against one: RNN 256 and
 * LSTM 128 (2^21 each) 1.6x and 1.4x faster, RNN 128 and LSTM 64 (2^19) within 1.2x either way;
 * and whole training runs at hidden 32 took twice as long with the helper in every call. (The tests
 * lower it to split small batches too.)
 */
export const sequenceThreading = {
  minStepMacs: 2 ** 20,
  /** Batch rows per piece that the two threads claim (see `pieces`). */
  pieceRows: 4,
};

/**
 * The batch rows of each piece: [first, count] pairs, one piece for a small product or one thread.
 * The threads claim pieces one at a time (WasmRuntime.callPieces), each running every time step of
 * its rows. With two fixed halves the calling thread waited for the helper 0.3 ms a call on average
 * (median 0.04 ms: the long waits are the times the OS or V8's background work holds up one core);
 * with pieces of 4 rows the concise RNN 256's forward took 2.14-2.25 ms a call inside training
 * against 2.58-2.62 ms (two alternating runs each; the GRU 256's was within noise). Pieces of 8 rows
 * measured the same as 4 within noise.
 */
function pieces(rt: WasmRuntime, batch: number, stepMacs: number): [number, number][] {
  if (rt.threads < 2 || batch < 8 || batch * stepMacs < sequenceThreading.minStepMacs) return [[0, batch]];
  const per = sequenceThreading.pieceRows;
  const out: [number, number][] = [];
  for (let first = 0; first < batch; first += per) out.push([first, Math.min(per, batch - first)]);
  return out;
}

/** A memory session for one kernel call: regions laid out first, then the view and the parameter blocks. */
interface Call {
  rt: WasmRuntime;
  view: Float32Array;
  ints: Int32Array;
  /** Byte address of a region's float offset. */
  addr(region: number): number;
}

function open(rt: WasmRuntime, regions: Regions): Call | null {
  const view = rt.reserve(regions.total);
  if (view === null) return null;
  return { rt, view, ints: new Int32Array(view.buffer), addr: (region) => (rt.base + region) * 4 };
}

/** What every piece's parameter block holds alike (regions as float offsets), besides its rows. */
interface Common {
  w: number;
  steps: number;
  hidden: number;
  relu: number;
  /** Each piece's scratch region. */
  scratch: number[];
}

/**
 * Runs `entry` once per piece, on both threads: piece i's parameter block (at params + i·PARAM_INTS)
 * holds `common`, its rows, and what `fill` sets for the piece's first row.
 */
function runShares(
  call: Call, entry: string, params: number, parts: [number, number][], common: Common,
  fill: (set: (slot: keyof typeof PARAMS, v: number) => void, first: number) => void,
): void {
  const blocks = parts.map(([first, rows], i) => {
    const block = call.rt.base + params + i * PARAM_INTS;
    call.ints.fill(0, block, block + PARAM_INTS);
    const set = (slot: keyof typeof PARAMS, v: number): void => { call.ints[block + PARAMS[slot]] = v; };
    set('w', call.addr(common.w));
    set('rows', rows);
    set('steps', common.steps);
    set('hidden', common.hidden);
    set('relu', common.relu);
    set('scratch', call.addr(common.scratch[i]!));
    fill(set, first);
    return block * 4;
  });
  if (blocks.length === 1) call.rt.call(entry, blocks[0]!);
  else call.rt.callPieces(entry, blocks[0]!, blocks.length, PARAM_INTS * 4);
}

/**
 * An operand of a call: a backend buffer already in the memory, used where it is (`at`, its byte
 * address), or else copied through a scratch region of its length (`region`). The kernels only read
 * their inputs and write exactly the rows of their outputs, so either is safe.
 */
interface Operand {
  readonly array: Float32Array;
  readonly at: number;
  readonly region: number;
}

/** Places `array`: in place when the runtime can address it, else in a region taken from `r`. */
function operand(rt: WasmRuntime, r: Regions, array: Float32Array): Operand {
  const at = rt.addressOf(array);
  return { array, at, region: at >= 0 ? -1 : r.take(array.length) };
}

/** The byte address of float `offset` of an operand. */
function addrOf(call: Call, x: Operand, offset = 0): number {
  return (x.at >= 0 ? x.at : call.addr(x.region)) + 4 * offset;
}

/** Copies an input operand into its region, unless it is used in place. */
function putIn(call: Call, x: Operand): void {
  if (x.at < 0) put(call, x.region, x.array);
}

/** Copies an output operand out of its region, unless it was written in place. */
function getOut(call: Call, x: Operand): void {
  if (x.at < 0) get(call, x.region, x.array);
}

/** Copies `src` into the region at float offset `region`. */
function put(call: Call, region: number, src: Float32Array): void {
  call.view.set(src, call.rt.base + region);
}

/** Copies `length` floats out of the region at `region` into `dst` from `to`. */
function get(call: Call, region: number, dst: Float32Array, length = dst.length, to = 0): void {
  const from = call.rt.base + region;
  dst.set(call.view.subarray(from, from + length), to);
}

/** Packs W (row-major, k x n) for the nn kernels with the module's packB, from W in place or a copy. */
function packWeight(call: Call, w: Operand, packed: number, k: number, n: number): void {
  putIn(call, w);
  call.rt.call('packB', addrOf(call, w), call.addr(packed), k, n / 4, n);
}

const GATES = { rnn: 1, gru: 3, lstm: 4 } as const;
const SAVED = { rnn: 0, gru: 4, lstm: 5 } as const;

/** The forward kernels: inputs [xp, wT, (bias | h0), (h0 | c0)], outputs [states, (saved), hN, (cN)]. */
function forward(mode: 'rnn' | 'gru' | 'lstm', reference: HostKernel<SequenceParams>): HostKernel<SequenceParams> {
  return (args: HostKernelArgs<SequenceParams>) => {
    const { steps: T, batch: B, hidden: H, reverse, origin, relu } = args.params;
    const rt = runtimeFor(H);
    if (rt === null) return reference(args);
    const G = GATES[mode];
    const S = SAVED[mode];
    const h0 = args.inputs[mode === 'gru' ? 3 : 2]!;
    const [states] = args.outputs as [Float32Array];
    const parts = pieces(rt, B, G * H * H);
    const r = new Regions();
    const params = r.take(parts.length * PARAM_INTS);
    const wPacked = r.take(G * H * H);
    const wT = operand(rt, r, args.inputs[1]!);
    const xp = operand(rt, r, args.inputs[0]!);
    const out = operand(rt, r, states);
    const saved = operand(rt, r, S > 0 ? args.outputs[1]! : new Float32Array(0));
    const first = operand(rt, r, h0.subarray(origin, origin + B * H));
    const extra = operand(rt, r, mode === 'gru' ? args.inputs[2]! : mode === 'lstm' ? args.inputs[3]!.subarray(origin, origin + B * H) : new Float32Array(0));
    // Per piece: the GRU's hp [rows, 3H], the LSTM's pre-activations [rows, 4H].
    const scratch = parts.map(([, rows]) => r.take(mode === 'rnn' ? 0 : rows * G * H));
    const call = open(rt, r);
    if (call === null) return reference(args);
    packWeight(call, wT, wPacked, H, G * H);
    for (const x of [xp, first, extra]) putIn(call, x);
    const t0 = reverse === 1 ? T - 1 : 0;
    const dir = reverse === 1 ? -1 : 1;
    runShares(call, ENTRY[`${mode}Forward`], params, parts, { w: wPacked, steps: T, hidden: H, relu, scratch }, (set, row) => {
      set('input', addrOf(call, xp, (t0 * B + row) * G * H));
      set('inputStep', dir * B * G * H * 4);
      set('out', addrOf(call, out, (t0 * B + row) * H));
      set('outStep', dir * B * H * 4);
      set('saved', addrOf(call, saved, (t0 * B + row) * S * H));
      set('savedStep', dir * B * S * H * 4);
      set('h0', addrOf(call, first, row * H));
      set('extra', addrOf(call, extra, mode === 'gru' ? 0 : row * H));
    });
    getOut(call, out);
    getOut(call, saved);
    // The final states are those of the last step processed.
    const last = reverse === 1 ? 0 : T - 1;
    args.outputs[S > 0 ? 2 : 1]!.set(states.subarray(last * B * H, (last + 1) * B * H));
    if (mode === 'lstm') {
      const saved = args.outputs[1]!;
      const cN = args.outputs[3]!;
      for (let b = 0; b < B; b++) {
        const from = ((last * B + b) * 5 + 4) * H;
        cN.set(saved.subarray(from, from + H), b * H);
      }
    }
  };
}

export const rnnForwardWasm = forward('rnn', rnnForwardHost);
export const gruForwardWasm = forward('gru', gruForwardHost);
export const lstmForwardWasm = forward('lstm', lstmForwardHost);

/**
 * The backward kernels. RNN: inputs [g, w, states] -> [dPre, dh0]; GRU: [g, w, states, saved, h0] ->
 * [dXp, dHp, dh0]; LSTM: [g, w, saved, c0, dcN] -> [dPre, dh0, dc0].
 */
function backward<P extends SequenceParams>(mode: 'rnn' | 'gru' | 'lstm', reference: HostKernel<P>): HostKernel<P> {
  return (args: HostKernelArgs<P>) => {
    const { steps: T, batch: B, hidden: H, reverse, origin, relu } = args.params;
    const rt = runtimeFor(H);
    if (rt === null) return reference(args);
    const G = GATES[mode];
    const S = mode === 'rnn' ? 1 : SAVED[mode]; // the RNN reads its states where the others read saved
    const none = new Float32Array(0);
    const outputs = args.outputs;
    const parts = pieces(rt, B, G * H * H);
    const r = new Regions();
    const params = r.take(parts.length * PARAM_INTS);
    const wPacked = r.take(G * H * H);
    const w = operand(rt, r, args.inputs[1]!);
    const g = operand(rt, r, args.inputs[0]!);
    const saved = operand(rt, r, mode === 'gru' ? args.inputs[3]! : args.inputs[2]!);
    const d = operand(rt, r, outputs[0]!);
    const dHp = operand(rt, r, mode === 'gru' ? outputs[1]! : none);
    const states = operand(rt, r, mode === 'gru' ? args.inputs[2]! : none);
    const initialIn = mode === 'gru' ? args.inputs[4]! : mode === 'lstm' ? args.inputs[3]! : none;
    const initial = operand(rt, r, mode === 'rnn' ? none : initialIn.subarray(origin, origin + B * H));
    // Per piece: dh [rows, H], and for the LSTM dc [rows, H] and one row for tanh(c).
    const scratch = parts.map(([, rows]) => r.take(mode === 'lstm' ? (2 * rows + 1) * H : rows * H));
    const call = open(rt, r);
    if (call === null) return reference(args);
    packWeight(call, w, wPacked, G * H, H);
    for (const x of [g, saved, states, initial]) putIn(call, x);
    parts.forEach(([first, rows], i) => {
      const at = call.rt.base + scratch[i]!;
      call.view.fill(0, at, at + rows * H);
      const finalCell = (args.params as unknown as LstmBackwardParams).finalCell === 1;
      if (mode === 'lstm') {
        if (finalCell) call.view.set(args.inputs[4]!.subarray(first * H, (first + rows) * H), at + rows * H);
        else call.view.fill(0, at + rows * H, at + 2 * rows * H);
      }
    });
    // Backward starts at the last step processed and walks toward the first.
    const tl = reverse === 1 ? 0 : T - 1;
    const dir = reverse === 1 ? 1 : -1;
    runShares(call, ENTRY[`${mode}Backward`], params, parts, { w: wPacked, steps: T, hidden: H, relu, scratch }, (set, first) => {
      set('input', addrOf(call, g, (tl * B + first) * H));
      set('inputStep', dir * B * H * 4);
      set('out', addrOf(call, d, (tl * B + first) * G * H));
      set('outStep', dir * B * G * H * 4);
      set('saved', addrOf(call, saved, (tl * B + first) * S * H));
      set('savedStep', dir * B * S * H * 4);
      if (mode === 'gru') {
        set('extra', addrOf(call, dHp, (tl * B + first) * G * H));
        // The states a step started from: those of the step processed before it. Where that is h0
        // instead, the pointer lies one step outside the buffer and is not read.
        set('states', addrOf(call, states, ((tl + dir) * B + first) * H));
        set('statesStep', dir * B * H * 4);
        set('h0', addrOf(call, initial, first * H));
      }
      if (mode === 'lstm') set('extra', addrOf(call, initial, first * H));
    });
    getOut(call, d);
    getOut(call, dHp);
    const dh0 = outputs[mode === 'gru' ? 2 : 1]!;
    parts.forEach(([first, rows], i) => {
      get(call, scratch[i]!, dh0, rows * H, first * H);
      if (mode === 'lstm') get(call, scratch[i]! + rows * H, outputs[2]!, rows * H, first * H);
    });
  };
}

export const rnnBackwardWasm = backward<SequenceParams>('rnn', rnnBackwardHost);
export const gruBackwardWasm = backward<SequenceParams>('gru', gruBackwardHost);
export const lstmBackwardWasm = backward<LstmBackwardParams>('lstm', lstmBackwardHost);

/**
 * dW_hh = Σ_steps dHpᵀ·(the state each step started from), db_hh = Σ_rows dHp: for a forward run the
 * steps from t = 1 start from states[t − 1], a contiguous run of rows, and step 0 from h0, so the sum
 * is two products on the backend's matmul (for a reverse run, states[t + 1] and h0 at t = T − 1);
 * db_hh's sums run in wasm in float32 (row-sums-wasm.ts).
 */
export function weightGradWasm(args: HostKernelArgs<WeightGradParams>): void {
  const { steps: T, batch: B, hidden: H, reverse, origin, gates } = args.params;
  const rt = wasmRuntime();
  if (rt === null) return weightGradHost(args);
  const [d, states, h0] = args.inputs as [Float32Array, Float32Array, Float32Array];
  const [dW, db] = args.outputs as [Float32Array, Float32Array];
  const GH = gates * H;
  const rows = (T - 1) * B;
  const product = (a: Float32Array, b: Float32Array, k: number, accumulate: boolean): boolean =>
    rt.matmul(a, b, dW, { batch: 1, m: GH, k, n: H, transA: true, transB: false, aBatchStride: 0, bBatchStride: 0, accumulate });
  const first = reverse === 1 ? T - 1 : 0; // the step that starts from h0
  let ok = true;
  if (rows > 0) {
    ok = reverse === 1
      ? product(d.subarray(0, rows * GH), states.subarray(B * H, T * B * H), rows, false)
      : product(d.subarray(B * GH), states.subarray(0, rows * H), rows, false);
  }
  ok = ok && product(d.subarray(first * B * GH, (first + 1) * B * GH), h0.subarray(origin, origin + B * H), B, rows > 0);
  if (!ok || !sumRowsWasm(d, T * B, GH, db)) weightGradHost(args);
}
