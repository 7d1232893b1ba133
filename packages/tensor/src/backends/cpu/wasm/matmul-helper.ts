// A second thread for the wasm matmul: a worker (worker_threads in Node, a Web Worker in a
// cross-origin isolated page's worker; see platform/threads.*.ts) that instantiates the same kernels on the same
// shared memory and computes one share of C (a band of rows, or of columns) while the calling thread
// computes the rest.
//
// Why a blocking handshake rather than messages: a product takes 0.1-2 ms, and a postMessage round
// trip costs about as much, while Atomics.wait/notify on a shared control word is much cheaper. The
// calling thread blocks in Atomics.wait until the worker's share is done, so the backend stays
// synchronous, like every other CPU kernel. Waking a thread that sleeps in Atomics.wait costs tens
// to hundreds of microseconds on this VM, as much as a whole [32,512]·[512,512] product, so both
// sides spin on the control word instead of sleeping at once. The caller spins while it waits for
// the worker's share. The idle worker spins for up to IDLE_SPIN_MS: in a training step the next
// product comes within a millisecond, so the worker stays awake for the whole run (as an OpenMP
// thread pool's workers do), and sleeps a tenth of a second after the last product. A short
// spin (150 µs) left the per-time-step products of the scratch RNN no faster on two threads than
// on one; spinning through the step made them about 1.2x faster (A/B, interleaved runs).
//
// Shared work (startPieces): an outer-product kernel's rows or columns cut into pieces, which both threads
// claim one at a time through a shared counter until none is left, the caller from the first piece
// on, the worker from the last one back. A thread that starts late or runs slower (the second core
// also runs V8's garbage collection) then simply takes fewer pieces, and otherwise each thread
// works on the same columns, and so the same part of B in its own L2 cache, call after call.
//
// Control words (Int32Array over a SharedArrayBuffer):
//   [0] command: 0 idle, 1 run, 2 quit   [1] done flag   [2] ready flag   [3] kernel index
//   [4..12] the kernel's arguments        [13] set when the kernel threw in the worker
//   [14] pieces claimed so far   [15] pieces (0: run the arguments once)   [16] rows or vectors per
//   piece   [17] in all   [18..20] bytes A, B and C move per piece   [21] 3: pieces of rows, 4: of vectors

import { envVar } from '../../../node-runtime.ts';
import { helperCores, spawnHelper } from '#platform/threads';
import type { HelperWorker } from '../../../platform/threads-types.ts';

/** Loads of the control word per round of spinning (a load takes a few nanoseconds). */
const SPINS = 20_000;

/** How long the idle worker keeps spinning, in rounds of SPINS loads, before it sleeps. */
const IDLE_SPIN_MS = 100;

/** The exported matmul kernels a helper can run, by index; extensions' exports follow them. */
export const HELPER_KERNELS = ['nn', 'tn', 'nt', 'nnAcc', 'tnAcc', 'ntAcc'] as const;
/** A kernel name: one of HELPER_KERNELS or an extension's export (see wasm-extensions.ts). */
export type HelperKernel = string;

/** A started helper thread. */
export interface MatmulHelper {
  /** Whether the worker has compiled the module and waits for work (it starts asynchronously). */
  ready(): boolean;
  /** Starts `kernel(...args)` on the worker and returns at once. */
  start(kernel: HelperKernel, args: readonly number[]): void;
  /**
   * Starts the worker claiming pieces of an outer-product kernel call `args` (a, b, c, m, nv, k, aRow,
   * aStep, ldc): piece p covers `per` of the m rows (sizeArg 3) or of the nv vectors (sizeArg 4),
   * fewer in the last, with a, b and c moved by p times the `steps` (bytes). The caller claims pieces
   * too, with claimPiece, until none is left.
   */
  startPieces(
    kernel: HelperKernel, args: readonly number[], pieces: number, per: number, sizeArg: 3 | 4,
    steps: { readonly a: number; readonly b: number; readonly c: number },
  ): void;
  /**
   * Claims a piece of the current shared call for the caller: true while one is left. The caller's
   * n-th claim is piece n (the worker takes pieces from the last one back).
   */
  claimPiece(pieces: number): boolean;
  /** Blocks until the started kernel has finished; throws if it failed in the worker. */
  wait(): void;
  /** Stops the worker. */
  close(): void;
}

// The worker's program, as the source of a function of its start data (run by platform/threads).
const WORKER_MAIN = `(workerData) => {
const { bytes, memory, control, kernels } = workerData;
const ctl = new Int32Array(control);
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
const fns = kernels.map((name) => instance.exports[name]);
const { spins, idleSpinMs } = workerData;
Atomics.store(ctl, 2, 1);
for (;;) {
  const until = performance.now() + idleSpinMs;
  while (Atomics.load(ctl, 0) === 0 && performance.now() < until) {
    for (let i = 0; i < spins && Atomics.load(ctl, 0) === 0; i++);
  }
  Atomics.wait(ctl, 0, 0);
  if (Atomics.load(ctl, 0) === 2) break;
  try {
    const fn = fns[ctl[3]];
    const pieces = ctl[15];
    if (pieces === 0) {
      fn(ctl[4], ctl[5], ctl[6], ctl[7], ctl[8], ctl[9], ctl[10], ctl[11], ctl[12]);
    } else {
      const per = ctl[16], total = ctl[17], aStep = ctl[18], bStep = ctl[19], cStep = ctl[20], byRows = ctl[21] === 3;
      // The worker takes pieces from the far end (the caller from the near end), so each thread
      // tends to get the same part of C, and of the operands, call after call.
      for (let p = pieces - 1; Atomics.add(ctl, 14, 1) < pieces; p--) {
        const size = Math.min(per, total - p * per);
        fn(ctl[4] + p * aStep, ctl[5] + p * bStep, ctl[6] + p * cStep, byRows ? size : ctl[7], byRows ? ctl[8] : size, ctl[9], ctl[10], ctl[11], ctl[12]);
      }
    }
  } catch {
    Atomics.store(ctl, 13, 1);
  }
  Atomics.store(ctl, 0, 0);
  Atomics.store(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}
}`;

/**
 * How many threads the wasm matmul may use: 1 where no helper can run (one core, no workers, a page
 * that is not cross-origin isolated); otherwise `TINYTAPE_CPU_THREADS` (1 or 2) when set, else 2.
 */
export function matmulThreads(): number {
  const cores = helperCores();
  if (cores < 2) return 1;
  const requested = envVar('TINYTAPE_CPU_THREADS');
  if (requested !== undefined && requested !== '') return Number(requested) >= 2 ? 2 : 1;
  return 2;
}

/**
 * Starts a worker running the module `bytes` on the shared `memory`, able to run the exports named in
 * `kernels`, or returns null where worker threads are unavailable. The worker does not keep the process alive.
 */
export function startMatmulHelper(bytes: Uint8Array, memory: object, kernels: readonly string[] = HELPER_KERNELS): MatmulHelper | null {
  if (typeof SharedArrayBuffer === 'undefined') return null;
  const control = new SharedArrayBuffer(32 * 4);
  const ctl = new Int32Array(control);
  let alive = true;
  const data = { bytes, memory, control, kernels: [...kernels], spins: SPINS, idleSpinMs: IDLE_SPIN_MS };
  const worker: HelperWorker | null = spawnHelper(WORKER_MAIN, data, () => {
    alive = false;
  });
  if (worker === null) return null;
  const go = (): void => {
    Atomics.store(ctl, 13, 0);
    Atomics.store(ctl, 1, 0);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
  const setCall = (kernel: HelperKernel, args: readonly number[]): void => {
    const index = kernels.indexOf(kernel);
    if (index < 0) throw new Error(`wasm helper: no kernel named '${kernel}'`);
    ctl[3] = index;
    for (let i = 0; i < 9; i++) ctl[4 + i] = args[i] ?? 0;
  };
  return {
    ready: () => alive && Atomics.load(ctl, 2) === 1,
    start(kernel, args) {
      setCall(kernel, args);
      ctl[15] = 0;
      go();
    },
    startPieces(kernel, args, pieces, per, sizeArg, steps) {
      setCall(kernel, args);
      ctl[15] = pieces;
      ctl[16] = per;
      ctl[17] = args[sizeArg] ?? 0;
      ctl[18] = steps.a;
      ctl[19] = steps.b;
      ctl[20] = steps.c;
      ctl[21] = sizeArg;
      Atomics.store(ctl, 14, 0);
      go();
    },
    claimPiece: (pieces) => Atomics.add(ctl, 14, 1) < pieces,
    wait() {
      // Short waits in a loop, so a worker that died (its 'exit' event cannot run while this thread
      // blocks) is noticed instead of hanging: after 10 s without an answer the product fails.
      for (let i = 0; i < SPINS && Atomics.load(ctl, 1) === 0; i++);
      for (let waited = 0; Atomics.load(ctl, 1) === 0; waited += 100) {
        if (waited >= 10_000) {
          alive = false;
          throw new Error('wasm matmul: the helper thread stopped answering');
        }
        Atomics.wait(ctl, 1, 0, 100);
      }
      if (Atomics.load(ctl, 13) !== 0) throw new Error('wasm matmul: the kernel failed in the helper thread');
    },
    close() {
      alive = false;
      Atomics.store(ctl, 0, 2);
      Atomics.notify(ctl, 0);
      worker.terminate();
    },
  };
}
