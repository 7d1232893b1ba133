/**
 * The scratch RNN written as a jax-js user would write it: a pure loss function of a parameter tree,
 * and the whole training step — forward, `valueAndGrad`, global-norm clipping, SGD — under one
 * `jit`, which traces it once per shape and compiles fused WebAssembly kernels. jax-js's arrays are
 * reference-counted and every function takes ownership of its arguments, hence the `.ref`s: each
 * extra use of an array adds a reference, and the step consumes the old parameters and state and
 * returns new ones.
 */
import type { Batch } from '@tinytape/data';
import { transposeRows } from '@tinytape/rnn';
import { createRequire } from 'node:module';
import type { Contender, EpochResult } from '../contender.ts';
import type { TrainConfig } from '../plan.ts';
import type { ScratchInit } from '../workload.ts';
import { tokensOf } from '../workload.ts';

type Jax = typeof import('@jax-js/jax');
type JArray = import('@jax-js/jax').Array;
type Params = { W_xh: JArray; W_hh: JArray; b_h: JArray; W_hq: JArray; b_q: JArray };

let loaded: Promise<Jax> | null = null;

/** Loads jax-js and starts its wasm device. In Node `init()` must be told 'wasm' (the default probes WebGPU/WebGL too). */
async function loadJax(): Promise<Jax> {
  loaded ??= (async () => {
    const jax = await import('@jax-js/jax');
    const devices = await jax.init('wasm');
    if (!devices.includes('wasm')) throw new Error(`jax-js: the wasm device did not start (got ${JSON.stringify(devices)})`);
    jax.defaultDevice('wasm');
    return jax;
  })();
  return loaded;
}

export function jaxVersion(): string {
  // jax-js exports no version constant; its package.json is not in its "exports", so find it by path.
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@jax-js/jax');
  const pkg = require(entry.replace(/dist[\\/][^\\/]*$/, 'package.json')) as { version: string };
  return pkg.version;
}

export async function jaxContender(config: TrainConfig, init: ScratchInit): Promise<Contender> {
  const jax = await loadJax();
  const { numpy: np, nn, tree } = jax;
  const { vocab: V, hidden: H } = init;
  const { lr, clip } = config;

  /** Mean cross-entropy of the RNN over one batch; the final state rides along as auxiliary output. */
  function loss(p: Params, X: JArray, Y: JArray, H0: JArray): [JArray, JArray] {
    const numSteps = X.shape[0]!;
    const inputs = nn.oneHot(X, V); // [numSteps, batch, V]
    let h = H0;
    const outputs: JArray[] = [];
    for (let t = 0; t < numSteps; t++) {
      const x = inputs.ref.slice(t);
      h = np.tanh(np.matmul(x, p.W_xh.ref).add(np.matmul(h, p.W_hh.ref)).add(p.b_h.ref));
      outputs.push(np.matmul(h.ref, p.W_hq.ref).add(p.b_q.ref));
    }
    inputs.dispose();
    tree.dispose(p);
    const logits = np.concatenate(outputs, 0); // time-major rows, like the labels
    const rows = logits.shape[0]!;
    const l = nn.logSoftmax(logits, -1).mul(nn.oneHot(Y, V)).sum().mul(-1 / rows);
    return [l, h];
  }

  const step = jax.jit((p: Params, X: JArray, Y: JArray, H0: JArray) => {
    const [[l, h], g] = jax.valueAndGrad(loss, { hasAux: true })(tree.ref(p), X, Y, H0);
    const grads = g as Params;
    const norm = np.sqrt(tree.leaves(grads).map((x: JArray) => np.square(x.ref).sum()).reduce((a: JArray, b: JArray) => a.add(b)));
    const scale = np.minimum(np.array(clip).div(norm), 1).mul(lr);
    const next: Params = {
      W_xh: p.W_xh.sub(grads.W_xh.mul(scale.ref)),
      W_hh: p.W_hh.sub(grads.W_hh.mul(scale.ref)),
      b_h: p.b_h.sub(grads.b_h.mul(scale.ref)),
      W_hq: p.W_hq.sub(grads.W_hq.mul(scale.ref)),
      b_q: p.b_q.sub(grads.b_q.mul(scale)),
    };
    return [next, l, h] as [Params, JArray, JArray];
  });

  const arr = (data: Float32Array, shape: number[]): JArray => np.array(data).reshape(shape);
  let params: Params = {
    W_xh: arr(init.W_xh, [V, H]),
    W_hh: arr(init.W_hh, [H, H]),
    b_h: arr(init.b_h, [H]),
    W_hq: arr(init.W_hq, [H, V]),
    b_q: arr(init.b_q, [V]),
  };

  return {
    name: 'jax-wasm',
    isPeer: true,
    async epoch(batches: readonly Batch[]): Promise<EpochResult> {
      const start = performance.now();
      const losses: JArray[] = [];
      let state: JArray | null = null;
      for (const batch of batches) {
        const [B, T] = batch.shape;
        state ??= np.zeros([B, H]);
        // Xᵀ as [numSteps, batch], so the traced loss one-hot encodes and slices it time-major.
        const X = np.array(transposeRows(batch.X, B, T), { dtype: np.int32 }).reshape([T, B]);
        const Y = np.array(transposeRows(batch.Y, B, T), { dtype: np.int32 });
        const [next, l, h] = step(params, X, Y, state) as [Params, JArray, JArray];
        params = next;
        state = h;
        losses.push(l);
      }
      const all = np.stack(losses);
      const perBatch = await all.data(); // the epoch's one readback
      const seconds = (performance.now() - start) / 1000;
      state?.dispose();
      const meanLoss = Array.from(perBatch as ArrayLike<number>).reduce((s, v) => s + v, 0) / perBatch.length;
      const tokens = tokensOf(batches);
      return { perplexity: Math.exp(meanLoss), tokensPerSec: tokens / seconds, seconds, tokens, steps: batches.length };
    },
    // jax-js has no public live-array count.
    memory: () => ({}),
    async dispose() {
      tree.dispose(params);
      step.dispose();
    },
  };
}
