import { type MatmulOptions, type Tensor, matmul, sameShape, sumTo } from '@tinytape/tensor';

/**
 * A gradient that is the matrix product op(x)·op(y), handed back by a rule without computing it:
 * matmul's rule does, so that the layer that sums gradients (gradient-sums.ts) can choose how to form
 * it — at once, added into a running sum by the matmul kernel itself, or together with the other
 * products of the same weight in one matmul at the end of backward. `evaluate()` is the plain way.
 */
export class ProductGradient {
  constructor(
    readonly x: Tensor,
    readonly y: Tensor,
    readonly opts: MatmulOptions,
    /** The input's shape: a batch of products is summed over the axes the input was broadcast along. */
    readonly shape: readonly number[],
  ) {}

  /** The gradient as a tensor: matmul(x, y, opts), summed to `shape`. */
  evaluate(): Tensor {
    const product = matmul(this.x, this.y, this.opts);
    if (sameShape(product.shape, this.shape)) return product;
    const summed = sumTo(product, this.shape);
    product.dispose();
    return summed;
  }
}

/** The gradient op(x)·op(y) of an input of shape `shape`, left for backward to compute. */
export function productGradient(x: Tensor, y: Tensor, opts: MatmulOptions, shape: readonly number[]): ProductGradient {
  return new ProductGradient(x, y, opts, shape);
}
