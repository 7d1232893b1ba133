/*
 * Gradient of matmul (forward in packages/tensor/src/ops/matmul.ts).
 * With Y = op(A) op(B): dA = G op(B)ᵀ and dB = op(A)ᵀ G. The transpose flags let the backward pass
 * read the stored operands transposed instead of copying them: when A itself was stored transposed
 * (transA), its gradient is the transpose of that product, which is op(B) Gᵀ, and likewise for B.
 */
import { type MatmulOptions, type Tensor, matmul, matmulAccumulate_, sumTo } from '@tinytape/tensor';
import { ACCUMULATED, registerGradient } from './registry.ts';

registerGradient('matmul', (g, { inputs: [a, b], attrs, accumulator, deferProduct }) => {
  const transA = attrs.transA as boolean;
  const transB = attrs.transB as boolean;
  // Each gradient is one product x·y. A weight's product with a short contraction (one time step's
  // batch) is handed to backward, which sums all of them in one matmul at the end; otherwise, when
  // backward already holds a running sum for that input, the kernel adds the product into it.
  const grad = (k: number, input: Tensor, x: Tensor, y: Tensor, opts: MatmulOptions) => {
    // Inputs that take no gradient (one-hot inputs, an initial state) are common here, and their
    // product would be as large as any other: skip it rather than compute and discard it.
    if (!input.requiresGrad) return null;
    if (deferProduct(k, x, y, opts)) return ACCUMULATED;
    const into = input.rank === 2 && g.rank === 2 ? accumulator(k) : null;
    if (into !== null) {
      matmulAccumulate_(into, x, y, opts);
      return ACCUMULATED;
    }
    // A broadcast operand (one matrix used across the batch) collects the sum over the batch.
    return sumTo(matmul(x, y, opts), input.shape);
  };
  return [
    transA ? grad(0, a!, b!, g, { transA: transB, transB: true }) : grad(0, a!, g, b!, { transB: !transB }),
    transB ? grad(1, b!, g, a!, { transA: true, transB: transA }) : grad(1, b!, a!, g, { transA: !transA }),
  ];
});
