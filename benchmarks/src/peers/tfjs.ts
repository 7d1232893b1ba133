/**
 * The book's models written as a TensorFlow.js user would write them (@tensorflow/tfjs with its cpu
 * backend — plain JavaScript kernels — or @tensorflow/tfjs-backend-wasm — XNNPACK in WebAssembly):
 * `tf.variable`s, `tf.variableGrads` for the gradients, `tf.tidy` around each step, `tf.keep` for the
 * carried state. Two models: d2l §8.5's scratch RNN and §8.6's concise RNNModel around an RNN, GRU or
 * LSTM cell with PyTorch's equations and weight layout. The loop mirrors tinytape's `trainEpoch` step
 * for step: one-hot Xᵀ, 35 recurrent steps, the mean cross-entropy over time-major labels,
 * global-norm clipping, SGD, and one readback of the epoch's losses at its end.
 *
 * On the wasm backend the backward pass's transposed products (hᵀ·dH, dH·W_hhᵀ) take several times
 * as long as the forward's plain one (tfjs-backend-wasm 4.22 at [32,512]x[512,512]), which is most of
 * why it trails here: it is what a user of the library gets.
 */
import type { Batch } from '@tinytape/data';
import { transposeRows } from '@tinytape/rnn';
import type { Contender, EpochResult } from '../contender.ts';
import type { TrainConfig } from '../plan.ts';
import type { ConciseInit, ModelInit, ScratchInit } from '../workload.ts';
import { tokensOf } from '../workload.ts';

type Tf = typeof import('@tensorflow/tfjs');
type TfTensor = import('@tensorflow/tfjs').Tensor;
type TfVariable = import('@tensorflow/tfjs').Variable;
type TfScalar = import('@tensorflow/tfjs').Scalar;

export type TfBackend = 'cpu' | 'wasm';

let loaded: Promise<Tf> | null = null;
let instances = 0;

/**
 * Loads TensorFlow.js and the wasm backend once. The union package @tensorflow/tfjs is used rather
 * than tfjs-core: tfjs-core's Node build registers no gradients, and its gradient module is ESM
 * that Node cannot load unbundled. Import-time banners ("looks like you are running TensorFlow.js
 * in Node.js") go to stderr with every other log line, so `--json` output stays clean.
 */
async function loadTf(): Promise<Tf> {
  loaded ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    return tf;
  })();
  return loaded;
}

/** The versions of TensorFlow.js's parts that run here, for the report. */
export async function tfVersions(): Promise<Record<string, string>> {
  const tf = await loadTf();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return {
    '@tensorflow/tfjs': tf.version.tfjs!,
    '@tensorflow/tfjs-backend-cpu': tf.version['tfjs-backend-cpu']!,
    '@tensorflow/tfjs-backend-wasm': wasm.version_wasm,
  };
}

/** Makes `backend` the active one. Each contender's tensors live on its own backend, so switching between interleaved rounds moves no data. */
async function use(tf: Tf, backend: TfBackend): Promise<void> {
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`TensorFlow.js backend "${backend}" failed to initialise`);
  }
  await tf.ready();
}

/**
 * One model as the training loop sees it: its variables, a zero state, and the forward pass to the
 * mean loss of a batch (run inside `tf.variableGrads`) with the state it ends in.
 */
interface TfModel {
  vars: TfVariable[];
  /** Zeros for the carried state: [h], or [h, c] for the LSTM. */
  beginState(batchSize: number): TfTensor[];
  loss(X: TfTensor, Y: TfTensor, state: TfTensor[], numSteps: number): { loss: TfScalar; state: TfTensor[] };
}

export async function tfjsContender(backend: TfBackend, config: TrainConfig, init: ModelInit): Promise<Contender> {
  const tf = await loadTf();
  await use(tf, backend);
  const { lr, clip } = config;
  // Variable names are global to TensorFlow.js: make them unique per contender.
  const prefix = `${backend}-${++instances}`;
  const model = init.kind === 'scratch' ? scratchModel(tf, init, prefix) : conciseModel(tf, init, prefix);
  const { vars } = model;

  /** One step: returns the (kept) mean loss and the (kept) final state. */
  function step(X: TfTensor, Y: TfTensor, state: TfTensor[], numSteps: number): [TfTensor, TfTensor[]] {
    return tf.tidy(() => {
      let last: TfTensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const out = model.loss(X, Y, state, numSteps);
        // The next batch starts from this state; keep() lets it outlive variableGrads' tidy (it is a
        // plain tensor there, so no gradient flows into it: d2l's detach()).
        last = out.state.map((s) => tf.keep(s));
        return out.loss;
      }, vars);
      const gs = vars.map((v) => grads[v.name]!);
      const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
      const scale = tf.mul(tf.minimum(tf.div(clip, norm), 1), lr);
      vars.forEach((v, i) => v.assign(tf.sub(v, tf.mul(gs[i]!, scale))));
      return [tf.keep(value), last];
    });
  }

  return {
    name: `tfjs-${backend}`,
    isPeer: true,
    async epoch(batches: readonly Batch[]): Promise<EpochResult> {
      await use(tf, backend);
      const liveTensorsBefore = tf.memory().numTensors;
      const start = performance.now();
      const losses: TfTensor[] = [];
      let state: TfTensor[] | null = null;
      for (const batch of batches) {
        const [B, T] = batch.shape;
        state ??= model.beginState(B);
        const X = tf.tensor2d(batch.X, [B, T], 'int32');
        const Y = tf.tensor1d(transposeRows(batch.Y, B, T), 'int32');
        const [loss, next] = step(X, Y, state, T);
        X.dispose();
        Y.dispose();
        tf.dispose(state);
        state = next;
        losses.push(loss);
      }
      const all = tf.stack(losses);
      const perBatch = await all.data(); // the epoch's one readback
      const seconds = (performance.now() - start) / 1000;
      all.dispose();
      tf.dispose(losses);
      if (state !== null) tf.dispose(state);
      const meanLoss = Array.from(perBatch).reduce((s, v) => s + v, 0) / perBatch.length;
      const tokens = tokensOf(batches);
      return {
        perplexity: Math.exp(meanLoss),
        tokensPerSec: tokens / seconds,
        seconds,
        tokens,
        steps: batches.length,
        liveTensorsBefore,
        liveTensorsAfter: tf.memory().numTensors,
      };
    },
    memory() {
      // Per backend: tf.memory() counts the tensors of both tfjs contenders together.
      const b = tf.engine().findBackend(backend);
      return { buffers: b?.numDataIds() };
    },
    async dispose() {
      for (const v of vars) v.dispose();
    },
  };
}

/**
 * One-hot as float32. Asked for float32 directly, tfjs-backend-wasm 4.22's OneHot kernel writes
 * integer 1s into the float buffer (1.4e-45 instead of 1.0: the loss becomes 0), so build the int32
 * one-hot and cast, on both backends alike.
 */
function oneHot(tf: Tf, indices: TfTensor, depth: number): TfTensor {
  return tf.cast(tf.oneHot(indices, depth), 'float32');
}

/**
 * A trainable variable holding a copy of `data`. `tf.variable` shares the initial tensor's buffer
 * rather than copying it, so that tensor is disposed here: otherwise it keeps the initial values
 * alive after the first update replaces the variable's buffer, and past the contender's dispose().
 */
function variable(tf: Tf, data: Float32Array, shape: number[], name: string): TfVariable {
  const initial = tf.tensor(data, shape, 'float32');
  const v = tf.variable(initial, true, name);
  initial.dispose();
  return v;
}

/** d2l §8.5: W_xh [V,H], W_hh [H,H], b_h, W_hq [H,V], b_q; the output layer applied step by step, as the book does. */
function scratchModel(tf: Tf, init: ScratchInit, prefix: string): TfModel {
  const { vocab: V, hidden: H } = init;
  const W_xh = variable(tf, init.W_xh, [V, H], `${prefix}/W_xh`);
  const W_hh = variable(tf, init.W_hh, [H, H], `${prefix}/W_hh`);
  const b_h = variable(tf, init.b_h, [H], `${prefix}/b_h`);
  const W_hq = variable(tf, init.W_hq, [H, V], `${prefix}/W_hq`);
  const b_q = variable(tf, init.b_q, [V], `${prefix}/b_q`);
  return {
    vars: [W_xh, W_hh, b_h, W_hq, b_q],
    beginState: (B) => [tf.zeros([B, H])],
    loss(X, Y, state, numSteps) {
      const inputs = tf.unstack(oneHot(tf, tf.transpose(X), V)); // numSteps × [B, V]
      let h = state[0]!;
      const outputs: TfTensor[] = [];
      for (let t = 0; t < numSteps; t++) {
        h = tf.tanh(tf.add(tf.add(tf.matMul(inputs[t]!, W_xh), tf.matMul(h, W_hh)), b_h));
        outputs.push(tf.add(tf.matMul(h, W_hq), b_q));
      }
      const logits = tf.concat(outputs, 0);
      return { loss: tf.losses.softmaxCrossEntropy(oneHot(tf, Y, V), logits) as TfScalar, state: [h] };
    },
  };
}

/**
 * d2l §8.6's RNNModel: one-hot Xᵀ, one PyTorch-style recurrent layer, then Linear(H, V) over all
 * steps' outputs at once. Weights keep PyTorch's [out, in] layout and are read transposed by
 * `matMul`'s transposeB, as `nn.RNN`/`nn.Linear` do. The input projection of all steps is one
 * matmul before the loop (cuDNN and tinytape do the same), leaving h W_hhᵀ per step.
 */
function conciseModel(tf: Tf, init: ConciseInit, prefix: string): TfModel {
  const { vocab: V, hidden: H, cell } = init;
  const G = { rnn: 1, gru: 3, lstm: 4 }[cell];
  const param = (data: Float32Array, shape: number[], name: string) => variable(tf, data, shape, `${prefix}/${name}`);
  const weight_ih = param(init.weight_ih, [G * H, V], 'weight_ih_l0');
  const weight_hh = param(init.weight_hh, [G * H, H], 'weight_hh_l0');
  const bias_ih = param(init.bias_ih, [G * H], 'bias_ih_l0');
  const bias_hh = param(init.bias_hh, [G * H], 'bias_hh_l0');
  const linear_weight = param(init.linear_weight, [V, H], 'linear.weight');
  const linear_bias = param(init.linear_bias, [V], 'linear.bias');

  /** One step from the step's input projection xp [B, G·H] (b_ih included): the new [h] or [h, c]. */
  const cellStep = (xp: TfTensor, h: TfTensor, c: TfTensor | undefined): TfTensor[] => {
    const hp = tf.add(tf.matMul(h, weight_hh, false, true), bias_hh);
    switch (cell) {
      case 'rnn':
        return [tf.tanh(tf.add(xp, hp))];
      case 'gru': {
        // PyTorch's GRU: the reset gate scales the recurrent part of n, b_hn included.
        const [xr, xz, xn] = tf.split(xp, 3, 1) as [TfTensor, TfTensor, TfTensor];
        const [hr, hz, hn] = tf.split(hp, 3, 1) as [TfTensor, TfTensor, TfTensor];
        const r = tf.sigmoid(tf.add(xr, hr));
        const z = tf.sigmoid(tf.add(xz, hz));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
        return [tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h))];
      }
      case 'lstm': {
        const [i, f, g, o] = tf.split(tf.add(xp, hp), 4, 1) as [TfTensor, TfTensor, TfTensor, TfTensor];
        const cNext = tf.add(tf.mul(tf.sigmoid(f), c!), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        return [tf.mul(tf.sigmoid(o), tf.tanh(cNext)), cNext];
      }
    }
  };

  return {
    vars: [weight_ih, weight_hh, bias_ih, bias_hh, linear_weight, linear_bias],
    beginState: (B) => (cell === 'lstm' ? [tf.zeros([B, H]), tf.zeros([B, H])] : [tf.zeros([B, H])]),
    loss(X, Y, state, numSteps) {
      const B = X.shape[0]!;
      const inputs = tf.reshape(oneHot(tf, tf.transpose(X), V), [numSteps * B, V]); // time-major rows
      const projected = tf.split(tf.add(tf.matMul(inputs, weight_ih, false, true), bias_ih), numSteps, 0);
      let [h, c] = state as [TfTensor, TfTensor | undefined];
      const outputs: TfTensor[] = [];
      for (let t = 0; t < numSteps; t++) {
        [h, c] = cellStep(projected[t]!, h, c) as [TfTensor, TfTensor | undefined];
        outputs.push(h);
      }
      const logits = tf.add(tf.matMul(tf.concat(outputs, 0), linear_weight, false, true), linear_bias);
      const loss = tf.losses.softmaxCrossEntropy(oneHot(tf, Y, V), logits) as TfScalar;
      return { loss, state: c === undefined ? [h] : [h, c] };
    },
  };
}
