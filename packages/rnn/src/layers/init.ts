/*
 * Parameter creation shared by the concise layers: PyTorch initialises every recurrent weight and bias,
 * and nn.Linear's weight and bias, from U(-k, k) with k = 1/√(fan), so one helper covers them all.
 */
import { type Device, type Generator, type Tensor, cpu, keep, uniform } from '@tinytape/tensor';

/** Where and from which random stream a layer creates its parameters. */
export interface ParamOptions {
  /** Device of the parameters (default: the CPU). */
  device?: Device;
  /** Random stream for the initial values (default: the global one that `manualSeed` resets). */
  generator?: Generator;
}

/**
 * A trainable leaf of `shape` drawn from U(-bound, bound), named for printed tapes and `keep()`-ed so
 * the scope of a training step never frees it.
 */
export function uniformParameter(shape: readonly number[], bound: number, name: string, opts: ParamOptions): Tensor {
  const t = uniform(shape, -bound, bound, { device: opts.device ?? cpu(), generator: opts.generator });
  t.name = name;
  return keep(t.requireGrad());
}
