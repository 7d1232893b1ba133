/*
 * Gradient of matmul (forward in packages/tensor/src/ops/matmul.ts).
 * With Y = op(A) op(B): dA = G op(B)ᵀ and dB = op(A)ᵀ G. The transpose flags let the backward pass
 * read the stored operands transposed instead of copying them: when A itself was stored transposed
 * (transA), its gradient is the transpose of that product, which is op(B) Gᵀ, and likewise for B.
 * Both are returned as products not yet computed (product.ts): backward forms them, and skips the
 * product of an input that takes no gradient (a one-hot input, an initial state).
 */
import { productGradient } from './product.ts';
import { registerGradient } from './registry.ts';

registerGradient('matmul', (g, { inputs: [a, b], attrs }) => {
  const transA = attrs.transA as boolean;
  const transB = attrs.transB as boolean;
  return [
    transA ? productGradient(b!, g, { transA: transB, transB: true }, a!.shape) : productGradient(g, b!, { transB: !transB }, a!.shape),
    transB ? productGradient(g, a!, { transA: true, transB: transA }, b!.shape) : productGradient(a!, g, { transA: !transA }, b!.shape),
  ];
});
