/** Parameter helpers shared by d2l's from-scratch models (chapters 8 and 9). */
import { type Device, type Tensor, keep, normal, zeros } from '@tinytape/tensor';

/** A named weight drawn from N(0, 0.01²), d2l's `normal(shape)` (`torch.randn(shape) * 0.01`). */
export function scratchWeight(shape: number[], name: string, device: Device): Tensor {
  const t = normal(0, 0.01, shape, { device });
  t.name = name;
  return t;
}

/** A named zero bias. */
export function scratchBias(size: number, name: string, device: Device): Tensor {
  const t = zeros([size], { device });
  t.name = name;
  return t;
}

/**
 * d2l's `three()`: input weight [numInputs, numHiddens], hidden weight [numHiddens, numHiddens] and a
 * zero bias, named after `suffix` (W_x<suffix>, W_h<suffix>, b_<suffix>).
 */
export function threeParams(numInputs: number, numHiddens: number, suffix: string, device: Device): Tensor[] {
  return [
    scratchWeight([numInputs, numHiddens], `W_x${suffix}`, device),
    scratchWeight([numHiddens, numHiddens], `W_h${suffix}`, device),
    scratchBias(numHiddens, `b_${suffix}`, device),
  ];
}

/** Marks every tensor as a trainable leaf that scopes never free, and returns them. */
export function trainable(params: Tensor[]): Tensor[] {
  for (const p of params) keep(p.requireGrad());
  return params;
}
