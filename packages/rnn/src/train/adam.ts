/*
 * Adam (Kingma & Ba) as a training-loop Updater, with PyTorch's defaults and update rule. Every update
 * happens on the device, in place: the moments live next to the parameters and nothing is read back,
 * so a WebGPU training step still never waits for the GPU.
 */
import { noGrad } from '@tinytape/autograd';
import { type Tensor, keep, tensor, zeros } from '@tinytape/tensor';
import { type AdamStepParams, adamStep } from '../kernels/multi-tensor.ts';
import type { Updater } from './sgd.ts';

/** Adam's hyper-parameters besides the learning rate (PyTorch's names and defaults). */
export interface AdamOptions {
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
}

/** An Adam updater: `step` as the training loop calls it, plus its state and a way to free it. */
export interface AdamUpdater extends Updater {
  /** Updates taken so far (PyTorch's `state['step']`). */
  readonly steps: number;
  /** The moments, named `exp_avg.<i>` and `exp_avg_sq.<i>` after PyTorch's state keys and parameter index. */
  state(): Record<string, Tensor>;
  /**
   * Puts back a state saved from `state()` and `steps` (to resume a run): every `exp_avg.<i>` and
   * `exp_avg_sq.<i>` must be present with parameter i's element count.
   *
   * @throws RangeError naming the missing or misshapen moment, before anything is changed.
   */
  restore(moments: Record<string, ArrayLike<number>>, steps: number): void;
  /** Frees the moment tensors. */
  dispose(): void;
}

/**
 * `torch.optim.Adam(params, lr)`: for each parameter with a gradient g, at step t,
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε); then g is zeroed
 * (the training loop accumulates gradients, as with `sgd`). The bias corrections are host numbers, since
 * t is counted on the host. `step(batchSize)` ignores batchSize: Adam's update is invariant to the
 * gradient's scale, and the book's loss is a mean already. One multi-tensor kernel updates a pair of
 * parameters, their moments and gradients per dispatch (kernels/multi-tensor.ts), computing each
 * element as the separate ops did (the same float32 values on the CPU backends); parameters without
 * a gradient are skipped.
 */
export function adam(params: Tensor[], lr: number, opts: AdamOptions = {}): AdamUpdater {
  const beta1 = opts.beta1 ?? 0.9;
  const beta2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  if (!(lr > 0)) throw new RangeError(`adam: lr must be > 0, got ${lr}`);
  for (const [name, b] of [['beta1', beta1], ['beta2', beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new RangeError(`adam: ${name} must be in [0, 1), got ${b}`);
  }
  if (!(eps >= 0)) throw new RangeError(`adam: eps must be >= 0, got ${eps}`);
  // keep(): the moments are created outside any step but must survive every step's scope.
  const m = params.map((p) => keep(zeros(p.shape, { device: p.device })));
  const v = params.map((p) => keep(zeros(p.shape, { device: p.device })));
  let steps = 0;
  return {
    get steps() {
      return steps;
    },
    step() {
      steps++;
      const correction1 = 1 - beta1 ** steps;
      const correction2 = 1 - beta2 ** steps;
      const live = params.flatMap((p, i) => (p.grad === null ? [] : [i]));
      if (live.length === 0) return;
      // The numbers the op-by-op update used, formed once on the host in double precision.
      const hyper: AdamStepParams = {
        stepSize: -lr / correction1,
        beta1,
        oneMinusBeta1: 1 - beta1,
        beta2,
        oneMinusBeta2: 1 - beta2,
        invRoot2: 1 / Math.sqrt(correction2),
        eps,
      };
      const pick = (list: Tensor[]): Tensor[] => live.map((i) => list[i]!);
      noGrad(() => adamStep(pick(params), live.map((i) => params[i]!.grad!), pick(m), pick(v), hyper));
    },
    state() {
      const out: Record<string, Tensor> = {};
      params.forEach((_, i) => {
        out[`exp_avg.${i}`] = m[i]!;
        out[`exp_avg_sq.${i}`] = v[i]!;
      });
      return out;
    },
    restore(moments, savedSteps) {
      if (!Number.isSafeInteger(savedSteps) || savedSteps < 0) throw new RangeError(`adam: steps must be an integer >= 0, got ${savedSteps}`);
      // Check everything first so a bad state leaves the optimizer as it was.
      const sources = params.map((p, i) =>
        (['exp_avg', 'exp_avg_sq'] as const).map((key) => {
          const data = moments[`${key}.${i}`];
          if (data === undefined) throw new RangeError(`adam: the saved state lacks ${key}.${i}`);
          if (data.length !== p.size) throw new RangeError(`adam: ${key}.${i} has ${data.length} values, parameter ${i} has ${p.size}`);
          return data;
        }),
      );
      noGrad(() => {
        sources.forEach(([mean, square], i) => {
          for (const [dst, src] of [[m[i]!, mean!], [v[i]!, square!]] as const) {
            const t = tensor(Float32Array.from(src), { shape: dst.shape, device: dst.device });
            dst.assign_(t);
            t.dispose();
          }
        });
      });
      steps = savedSteps;
    },
    dispose() {
      for (const t of [...m, ...v]) {
        t.kept = false;
        t.dispose();
      }
    },
  };
}
