/*
 * Gradients of the elementwise ops (forwards in packages/tensor/src/ops/elementwise.ts).
 * Binary ops broadcast, so each input's gradient is summed back to that input's shape (`sumTo`).
 * Where a derivative is cheapest in terms of the output (tanh, sigmoid, exp, sqrt), the rule uses it.
 */
import { div, mul, neg, scalarOp, sub, sumTo, unaryOp, type Tensor } from '@tinytape/tensor';
import { registerGradient } from './registry.ts';

const sign = (x: Tensor): Tensor => sub(unaryOp('step', x), unaryOp('step', neg(x)));

registerGradient('neg', (g) => [neg(g)]);
registerGradient('exp', (g, { output: y }) => [mul(g, y)]);
registerGradient('log', (g, { inputs: [x] }) => [div(g, x!)]);
registerGradient('tanh', (g, { output: y }) => [mul(g, unaryOp('oneMinusSquare', y))]);
registerGradient('sigmoid', (g, { output: y }) => [mul(g, unaryOp('sigmoidGradFromOutput', y))]);
registerGradient('relu', (g, { inputs: [x] }) => [mul(g, unaryOp('step', x!))]);
registerGradient('sqrt', (g, { output: y }) => [div(g, mul(y, 2))]);
registerGradient('square', (g, { inputs: [x] }) => [mul(g, mul(x!, 2))]);
registerGradient('abs', (g, { inputs: [x] }) => [mul(g, sign(x!))]);
// The derivative helpers the rules above use are ops too; differentiated, as a second-order graph would.
registerGradient('step', (g) => [mul(g, 0)]);
registerGradient('oneMinusSquare', (g, { inputs: [x] }) => [mul(g, mul(x!, -2))]);
registerGradient('sigmoidGradFromOutput', (g, { inputs: [x] }) => [mul(g, sub(1, mul(x!, 2)))]);

// Tensor (op) number: the number takes no gradient.
const s = (attrs: Record<string, unknown>): number => attrs.scalar as number;
registerGradient('addScalar', (g) => [g]);
registerGradient('subScalar', (g) => [g]);
registerGradient('rsubScalar', (g) => [neg(g)]);
registerGradient('mulScalar', (g, { attrs }) => [mul(g, s(attrs))]);
registerGradient('divScalar', (g, { attrs }) => [div(g, s(attrs))]);
// y = s / x  =>  dy/dx = -s / x² = -y / x
registerGradient('rdivScalar', (g, { inputs: [x], output: y }) => [mul(g, div(neg(y), x!))]);
// y = x^p  =>  dy/dx = p x^(p-1)
registerGradient('powScalar', (g, { inputs: [x], attrs }) => [mul(g, mul(scalarOp('pow', x!, s(attrs) - 1), s(attrs)))]);
registerGradient('maximumScalar', (g, { inputs: [x], attrs }) => [mul(g, unaryOp('step', sub(x!, s(attrs))))]);
registerGradient('minimumScalar', (g, { inputs: [x], attrs }) => [mul(g, unaryOp('step', sub(s(attrs), x!)))]);

// Tensor (op) tensor, broadcasting.
registerGradient('add', (g, { inputs: [a, b] }) => [sumTo(g, a!.shape), sumTo(g, b!.shape)]);
registerGradient('sub', (g, { inputs: [a, b] }) => [sumTo(g, a!.shape), sumTo(neg(g), b!.shape)]);
registerGradient('mul', (g, { inputs: [a, b] }) => [sumTo(mul(g, b!), a!.shape), sumTo(mul(g, a!), b!.shape)]);
// y = a / b  =>  dy/da = 1/b,  dy/db = -a/b² = -y/b
registerGradient('div', (g, { inputs: [a, b], output: y }) => [
  sumTo(div(g, b!), a!.shape),
  sumTo(mul(g, div(neg(y), b!)), b!.shape),
]);
// The larger input takes the gradient; on a tie it goes to b.
registerGradient('maximum', (g, { inputs: [a, b] }) => {
  const aWins = unaryOp('step', sub(a!, b!));
  return [sumTo(mul(g, aWins), a!.shape), sumTo(mul(g, sub(1, aWins)), b!.shape)];
});
registerGradient('minimum', (g, { inputs: [a, b] }) => {
  const aWins = unaryOp('step', sub(b!, a!));
  return [sumTo(mul(g, aWins), a!.shape), sumTo(mul(g, sub(1, aWins)), b!.shape)];
});
