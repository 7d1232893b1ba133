/*
 * Gradients of the shape ops (forwards in packages/tensor/src/ops/shape-ops.ts): each moves the
 * gradient back to where the forward took the values from.
 */
import { padSlice, permute, reshape, slice } from '@tinytape/tensor';
import { registerGradient } from './registry.ts';

registerGradient('reshape', (g, { attrs }) => [reshape(g, attrs.fromShape as number[])]);

registerGradient('permute', (g, { attrs }) => {
  const perm = attrs.perm as number[];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return [permute(g, inverse)];
});

registerGradient('slice', (g, { inputs: [x], attrs }) => [padSlice(g, x!.shape, attrs.axis as number, attrs.start as number)]);

registerGradient('concat', (g, { attrs }) => {
  const axis = attrs.axis as number;
  let offset = 0;
  return (attrs.sizes as number[]).map((size) => {
    const part = slice(g, axis, offset, offset + size);
    offset += size;
    return part;
  });
});
