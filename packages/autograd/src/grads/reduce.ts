/*
 * Gradients of the reductions and broadcasting (forwards in packages/tensor/src/ops/reduce.ts).
 * Each reduction primitive reduces one axis; multi-axis sums are chains of them on the tape.
 */
import { argmax, broadcastTo, mul, oneHot, permute, reshape, sumTo } from '@tinytape/tensor';
import { registerGradient } from './registry.ts';

/** The shape of `shape` with `axis` kept as length 1. */
const keptShape = (shape: readonly number[], axis: number): number[] => shape.map((d, i) => (i === axis ? 1 : d));

// Every summed element contributed once: spread g back over the reduced axis.
registerGradient('sum', (g, { inputs: [x], attrs }) => [
  broadcastTo(reshape(g, keptShape(x!.shape, attrs.axis as number)), x!.shape),
]);

// Only the (first) maximum contributed: route g to it through a one-hot mask along the axis.
registerGradient('max', (g, { inputs: [x], attrs }) => {
  const axis = attrs.axis as number;
  const rank = x!.rank;
  const winners = oneHot(argmax(x!, axis), x!.shape[axis]!); // [...x.shape without axis, len]
  const perm = [...Array(rank).keys()].map((i) => (i < axis ? i : i === axis ? rank - 1 : i - 1));
  const mask = permute(winners, perm);
  return [mul(mask, reshape(g, keptShape(x!.shape, axis)))];
});

registerGradient('broadcastTo', (g, { attrs }) => [sumTo(g, attrs.fromShape as number[])]);
