/*
 * Gradients of gather and the softmax family (forwards in packages/tensor/src/ops/index-ops.ts and nn.ts).
 */
import { crossEntropyGrad, exp, mul, scatterAddRows, sub, sum } from '@tinytape/tensor';
import { registerGradient } from './registry.ts';

// Rows were copied out of the table, so their gradients are summed back into the rows they came from.
registerGradient('gather', (g, { inputs: [table, indices] }) => [scatterAddRows(g, indices!, table!.shape), null]);

// y = softmax(x): dx = y ⊙ (g − Σ g⊙y) along the last axis.
registerGradient('softmax', (g, { output: y }) => [mul(y, sub(g, sum(mul(g, y), -1, true)))]);

// y = log softmax(x): dx = g − softmax(x) ⊙ Σ g, and softmax(x) = exp(y).
registerGradient('logSoftmax', (g, { output: y }) => [sub(g, mul(exp(y), sum(g, -1, true)))]);

// Fused: (softmax(logits) − onehot(targets)) / N, scaled by g on the device. Targets take no gradient.
registerGradient('crossEntropy', (g, { inputs: [logits, targets] }) => [crossEntropyGrad(logits!, targets!, g), null]);
