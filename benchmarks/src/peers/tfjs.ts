/**
 * The scratch RNN written as a TensorFlow.js user would write it (@tensorflow/tfjs with its cpu
 * backend — plain JavaScript kernels — or @tensorflow/tfjs-backend-wasm — XNNPACK in WebAssembly): `tf.variable`s,
 * `tf.variableGrads` for the gradients, `tf.tidy` around each step, `tf.keep` for the carried state.
 * The loop mirrors tinytape's `trainEpoch` step for step: one-hot Xᵀ, 35 tanh steps, the mean
 * cross-entropy over time-major labels, global-norm clipping, SGD, and one readback of the epoch's
 * losses at its end.
 *
 * On the wasm backend the backward pass's transposed products (hᵀ·dH, dH·W_hhᵀ) take several times
 * as long as the forward's plain one (tfjs-backend-wasm 4.22 at [32,512]x[512,512]), which is most of
 * why it trails here: it is what a user of the library gets.
 */
import type { Batch } from '@tinytape/data';
import { transposeRows } from '@tinytape/rnn';
import type { Contender, EpochResult } from '../contender.ts';
import type { TrainConfig } from '../plan.ts';
import type { ScratchInit } from '../workload.ts';
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

export async function tfjsContender(backend: TfBackend, config: TrainConfig, init: ScratchInit): Promise<Contender> {
  const tf = await loadTf();
  await use(tf, backend);
  const { vocab: V, hidden: H } = init;
  const { lr, clip } = config;
  // Variable names are global to TensorFlow.js: make them unique per contender.
  const prefix = `${backend}-${++instances}`;
  const W_xh = tf.variable(tf.tensor2d(init.W_xh, [V, H]), true, `${prefix}/W_xh`);
  const W_hh = tf.variable(tf.tensor2d(init.W_hh, [H, H]), true, `${prefix}/W_hh`);
  const b_h = tf.variable(tf.tensor1d(init.b_h), true, `${prefix}/b_h`);
  const W_hq = tf.variable(tf.tensor2d(init.W_hq, [H, V]), true, `${prefix}/W_hq`);
  const b_q = tf.variable(tf.tensor1d(init.b_q), true, `${prefix}/b_q`);
  const vars: TfVariable[] = [W_xh, W_hh, b_h, W_hq, b_q];

  /**
   * One-hot as float32. Asked for float32 directly, tfjs-backend-wasm 4.22's OneHot kernel writes
   * integer 1s into the float buffer (1.4e-45 instead of 1.0: the loss becomes 0), so build the int32
   * one-hot and cast, on both backends alike.
   */
  const oneHot = (indices: TfTensor): TfTensor => tf.cast(tf.oneHot(indices, V), 'float32');

  /** One step: returns the (kept) mean loss and the (kept) final hidden state. */
  function step(X: TfTensor, Y: TfTensor, H0: TfTensor, numSteps: number): [TfTensor, TfTensor] {
    return tf.tidy(() => {
      let last: TfTensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const inputs = tf.unstack(oneHot(tf.transpose(X))); // numSteps × [B, V]
        let h = H0;
        const outputs: TfTensor[] = [];
        for (let t = 0; t < numSteps; t++) {
          h = tf.tanh(tf.add(tf.add(tf.matMul(inputs[t]!, W_xh), tf.matMul(h, W_hh)), b_h));
          outputs.push(tf.add(tf.matMul(h, W_hq), b_q));
        }
        // The next batch starts from this state; keep() lets it outlive variableGrads' tidy (it is a
        // plain tensor there, so no gradient flows into it: d2l's detach()).
        last = tf.keep(h);
        const logits = tf.concat(outputs, 0);
        return tf.losses.softmaxCrossEntropy(oneHot(Y), logits) as TfScalar;
      }, vars);
      const gs = vars.map((v) => grads[v.name]!);
      const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
      const scale = tf.mul(tf.minimum(tf.div(clip, norm), 1), lr);
      vars.forEach((v, i) => v.assign(tf.sub(v, tf.mul(gs[i]!, scale))));
      return [tf.keep(value), last!];
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
      let state: TfTensor | null = null;
      for (const batch of batches) {
        const [B, T] = batch.shape;
        state ??= tf.zeros([B, H]);
        const X = tf.tensor2d(batch.X, [B, T], 'int32');
        const Y = tf.tensor1d(transposeRows(batch.Y, B, T), 'int32');
        const [loss, next] = step(X, Y, state, T);
        X.dispose();
        Y.dispose();
        state.dispose();
        state = next;
        losses.push(loss);
      }
      const all = tf.stack(losses);
      const perBatch = await all.data(); // the epoch's one readback
      const seconds = (performance.now() - start) / 1000;
      all.dispose();
      for (const l of losses) l.dispose();
      state?.dispose();
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
