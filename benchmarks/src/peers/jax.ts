/**
 * The book's models written as a jax-js user would write them — d2l §8.5's scratch RNN and §8.6's
 * concise RNNModel around an RNN, GRU or LSTM cell with PyTorch's equations and weight layout: a pure
 * loss function of a parameter tree, and the whole training step — forward, `valueAndGrad`,
 * global-norm clipping, SGD — under one `jit`, which traces it once per shape and compiles fused
 * WebAssembly kernels. jax-js's arrays are reference-counted and every function takes ownership of
 * its arguments, hence the `.ref`s: each extra use of an array adds a reference, and the step
 * consumes the old parameters and state and returns new ones.
 */
import type { Batch } from '@tinytape/data';
import { transposeRows } from '@tinytape/rnn';
import { createRequire } from 'node:module';
import type { Contender, EpochResult } from '../contender.ts';
import type { TrainConfig } from '../plan.ts';
import type { ConciseInit, ModelInit, ScratchInit } from '../workload.ts';
import { tokensOf } from '../workload.ts';

type Jax = typeof import('@jax-js/jax');
type JArray = import('@jax-js/jax').Array;
type Jnp = Jax['numpy'];
type Params = Record<string, JArray>;

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

/**
 * One model as the training step sees it: its parameters, a zero state, and a pure loss function
 * that consumes its arguments and returns the batch's mean loss with the final state as auxiliary
 * output.
 */
interface JaxModel {
  params: Params;
  /** Zeros for the carried state: [h], or [h, c] for the LSTM. */
  beginState(batchSize: number): JArray[];
  loss(p: Params, X: JArray, Y: JArray, state: JArray[]): [JArray, JArray[]];
}

export async function jaxContender(config: TrainConfig, init: ModelInit): Promise<Contender> {
  const jax = await loadJax();
  const { numpy: np, tree } = jax;
  const { lr, clip } = config;
  const model = init.kind === 'scratch' ? scratchModel(jax, init) : conciseModel(jax, init);

  const step = jax.jit((p: Params, X: JArray, Y: JArray, state: JArray[]) => {
    const [[l, s], g] = jax.valueAndGrad(model.loss, { hasAux: true })(tree.ref(p), X, Y, state);
    const grads = g as Params;
    const norm = np.sqrt(tree.leaves(grads).map((x: JArray) => np.square(x.ref).sum()).reduce((a: JArray, b: JArray) => a.add(b)));
    const scale = np.minimum(np.array(clip).div(norm), 1).mul(lr);
    const keys = Object.keys(p);
    const next: Params = {};
    keys.forEach((k, i) => {
      next[k] = p[k]!.sub(grads[k]!.mul(i === keys.length - 1 ? scale : scale.ref));
    });
    return [next, l, s] as [Params, JArray, JArray[]];
  });

  let params = model.params;
  return {
    name: 'jax-wasm',
    isPeer: true,
    async epoch(batches: readonly Batch[]): Promise<EpochResult> {
      const start = performance.now();
      const losses: JArray[] = [];
      let state: JArray[] | null = null;
      for (const batch of batches) {
        const [B, T] = batch.shape;
        state ??= model.beginState(B);
        // Xᵀ as [numSteps, batch], so the traced loss one-hot encodes and slices it time-major.
        const X = np.array(transposeRows(batch.X, B, T), { dtype: np.int32 }).reshape([T, B]);
        const Y = np.array(transposeRows(batch.Y, B, T), { dtype: np.int32 });
        const [next, l, s] = step(params, X, Y, state) as [Params, JArray, JArray[]];
        params = next;
        state = s;
        losses.push(l);
      }
      const all = np.stack(losses);
      const perBatch = await all.data(); // the epoch's one readback
      const seconds = (performance.now() - start) / 1000;
      tree.dispose(state);
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

/** Mean cross-entropy of time-major logits [rows, V] against labels [rows]; consumes both. */
function meanCrossEntropy(jax: Jax, logits: JArray, Y: JArray, V: number): JArray {
  const rows = logits.shape[0]!;
  return jax.nn.logSoftmax(logits, -1).mul(jax.nn.oneHot(Y, V)).sum().mul(-1 / rows);
}

const array = (np: Jnp, data: Float32Array, shape: number[]): JArray => np.array(data).reshape(shape);

/** d2l §8.5: W_xh [V,H], W_hh [H,H], b_h, W_hq [H,V], b_q; the output layer applied step by step, as the book does. */
function scratchModel(jax: Jax, init: ScratchInit): JaxModel {
  const { numpy: np, nn, tree } = jax;
  const { vocab: V, hidden: H } = init;
  return {
    params: {
      W_xh: array(np, init.W_xh, [V, H]),
      W_hh: array(np, init.W_hh, [H, H]),
      b_h: array(np, init.b_h, [H]),
      W_hq: array(np, init.W_hq, [H, V]),
      b_q: array(np, init.b_q, [V]),
    },
    beginState: (B) => [np.zeros([B, H])],
    loss(p, X, Y, state) {
      const numSteps = X.shape[0]!;
      const inputs = nn.oneHot(X, V); // [numSteps, batch, V]
      let h = state[0]!;
      const outputs: JArray[] = [];
      for (let t = 0; t < numSteps; t++) {
        const x = inputs.ref.slice(t);
        h = np.tanh(np.matmul(x, p.W_xh!.ref).add(np.matmul(h, p.W_hh!.ref)).add(p.b_h!.ref));
        outputs.push(np.matmul(h.ref, p.W_hq!.ref).add(p.b_q!.ref));
      }
      inputs.dispose();
      tree.dispose(p);
      return [meanCrossEntropy(jax, np.concatenate(outputs, 0), Y, V), [h]];
    },
  };
}

/**
 * d2l §8.6's RNNModel: one-hot Xᵀ, one PyTorch-style recurrent layer, then Linear(H, V) over all
 * steps' outputs at once. Weights keep PyTorch's [out, in] layout and are used transposed (`W.T`,
 * as a JAX user writes `x @ W.T`). The input projection of all steps is one matmul before the loop
 * (cuDNN and tinytape do the same), leaving h W_hhᵀ per step.
 */
function conciseModel(jax: Jax, init: ConciseInit): JaxModel {
  const { numpy: np, nn, tree } = jax;
  const { vocab: V, hidden: H, cell } = init;
  const G = { rnn: 1, gru: 3, lstm: 4 }[cell];

  /** One step from the step's input projection xp [B, G·H] (b_ih included): the new [h] or [h, c]. Consumes xp, h, c. */
  const cellStep = (p: Params, whhT: JArray, xp: JArray, h: JArray, c: JArray | undefined): JArray[] => {
    switch (cell) {
      case 'rnn':
        return [np.tanh(xp.add(np.matmul(h, whhT.ref)).add(p.bias_hh!.ref))];
      case 'gru': {
        const hp = np.matmul(h.ref, whhT.ref).add(p.bias_hh!.ref);
        const rz = nn.sigmoid(xp.ref.slice([], [0, 2 * H]).add(hp.ref.slice([], [0, 2 * H])));
        const r = rz.ref.slice([], [0, H]);
        const z = rz.slice([], [H, 2 * H]);
        // PyTorch's GRU: the reset gate scales the recurrent part of n, b_hn included.
        const n = np.tanh(xp.slice([], [2 * H]).add(r.mul(hp.slice([], [2 * H]))));
        // (1 − z) ⊙ n + z ⊙ h as n + z ⊙ (h − n).
        return [n.ref.add(z.mul(h.sub(n)))];
      }
      case 'lstm': {
        const gates = xp.add(np.matmul(h, whhT.ref)).add(p.bias_hh!.ref);
        const i = nn.sigmoid(gates.ref.slice([], [0, H]));
        const f = nn.sigmoid(gates.ref.slice([], [H, 2 * H]));
        const g = np.tanh(gates.ref.slice([], [2 * H, 3 * H]));
        const o = nn.sigmoid(gates.slice([], [3 * H]));
        const cNext = f.mul(c!).add(i.mul(g));
        return [o.mul(np.tanh(cNext.ref)), cNext];
      }
    }
  };

  return {
    params: {
      weight_ih: array(np, init.weight_ih, [G * H, V]),
      weight_hh: array(np, init.weight_hh, [G * H, H]),
      bias_ih: array(np, init.bias_ih, [G * H]),
      bias_hh: array(np, init.bias_hh, [G * H]),
      linear_weight: array(np, init.linear_weight, [V, H]),
      linear_bias: array(np, init.linear_bias, [V]),
    },
    beginState: (B) => (cell === 'lstm' ? [np.zeros([B, H]), np.zeros([B, H])] : [np.zeros([B, H])]),
    loss(p, X, Y, state) {
      const [numSteps, B] = X.shape as [number, number];
      const inputs = nn.oneHot(X, V).reshape([numSteps * B, V]); // time-major rows
      const projected = np.matmul(inputs, p.weight_ih!.ref.transpose()).add(p.bias_ih!.ref); // [numSteps·B, G·H]
      const whhT = p.weight_hh!.ref.transpose();
      let [h, c] = state as [JArray, JArray | undefined];
      const outputs: JArray[] = [];
      for (let t = 0; t < numSteps; t++) {
        [h, c] = cellStep(p, whhT, projected.ref.slice([t * B, (t + 1) * B]), h, c) as [JArray, JArray | undefined];
        outputs.push(h.ref);
      }
      projected.dispose();
      whhT.dispose();
      const logits = np.matmul(np.concatenate(outputs, 0), p.linear_weight!.ref.transpose()).add(p.linear_bias!.ref);
      tree.dispose(p);
      return [meanCrossEntropy(jax, logits, Y, V), c === undefined ? [h] : [h, c]];
    },
  };
}
