/** `nn.Linear`: y = x Wᵀ + b, with PyTorch's parameter layout and initialisation. */
import { type Tensor, add, matmul } from '@tinytape/tensor';
import { type ParamOptions, uniformParameter } from './init.ts';

/**
 * A fully connected layer, PyTorch's `nn.Linear(inFeatures, outFeatures)`: `weight` is
 * [outFeatures, inFeatures] and `bias` [outFeatures], both U(±1/√inFeatures) (what PyTorch's
 * Kaiming-uniform default with a = √5 works out to).
 */
export class Linear {
  /** [outFeatures, inFeatures], PyTorch's layout (so checkpoints load without transposing). */
  readonly weight: Tensor;
  /** [outFeatures]. */
  readonly bias: Tensor;

  /**
   * @param inFeatures - size of each input row.
   * @param outFeatures - size of each output row.
   * @param opts - device and random stream of the parameters.
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: ParamOptions = {},
  ) {
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniformParameter([outFeatures, inFeatures], bound, 'weight', opts);
    this.bias = uniformParameter([outFeatures], bound, 'bias', opts);
  }

  /** x [N, inFeatures] -> [N, outFeatures]; the weight is read transposed by the matmul, never copied. */
  forward(x: Tensor): Tensor {
    return add(matmul(x, this.weight, { transB: true }), this.bias);
  }

  /** `weight` and `bias` under PyTorch's state_dict names. */
  namedParameters(): [string, Tensor][] {
    return [['weight', this.weight], ['bias', this.bias]];
  }
}

/** Throws a RangeError naming the layer and argument unless `n` is a positive integer. */
export function checkSize(layer: string, what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${layer}: ${what} must be a positive integer, got ${n}`);
}
