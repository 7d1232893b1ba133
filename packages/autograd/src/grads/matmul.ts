/*
 * Gradient of matmul (forward in packages/tensor/src/ops/matmul.ts).
 * With Y = op(A) op(B): dA = G op(B)ᵀ and dB = op(A)ᵀ G. The transpose flags let the backward pass
 * read the stored operands transposed instead of copying them: when A itself was stored transposed
 * (transA), its gradient is the transpose of that product, which is op(B) Gᵀ, and likewise for B.
 */
import { matmul, sumTo } from '@tinytape/tensor';
import { registerGradient } from './registry.ts';

registerGradient('matmul', (g, { inputs: [a, b], attrs }) => {
  const transA = attrs.transA as boolean;
  const transB = attrs.transB as boolean;
  const gradA = transA ? matmul(b!, g, { transA: transB, transB: true }) : matmul(g, b!, { transB: !transB });
  const gradB = transB ? matmul(g, a!, { transA: true, transB: transA }) : matmul(a!, g, { transA: !transA });
  // A broadcast operand (one matrix used across the batch) collects the sum over the batch.
  return [sumTo(gradA, a!.shape), sumTo(gradB, b!.shape)];
});
