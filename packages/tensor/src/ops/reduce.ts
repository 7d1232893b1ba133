import type { ReduceOp } from '../backend.ts';
import { recordOp } from '../engine.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastShapes, broadcastStrides, contiguousStrides, normAxis, sameShape, sizeOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { reshape } from './shape-ops.ts';
import { scalarOp } from './elementwise.ts';
import { allocTensor, expectDtype, expectTensor } from './util.ts';
import { scope } from '../scope.ts';

export type Axis = number | readonly number[];

/** Sum over `axis` (a number, a list, or all axes when omitted), optionally keeping reduced axes as 1. */
export function sum(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduceAxes('sum', x, axis, keepdims);
}

/** Largest value over `axis` (all axes when omitted). Its gradient flows to the first maximum. */
export function max(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduceAxes('max', x, axis, keepdims);
}

/** Mean over `axis` (all axes when omitted): the sum divided by the number of reduced elements. */
export function mean(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  expectTensor('mean', x);
  const axes = resolveAxes('mean', x, axis);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  if (count === 0) throw new ShapeError(`mean: no elements to average in ${fmtShape(x.shape)}`);
  // A composite: the scope frees the intermediate sum (the tape adopts it if gradients need it).
  return scope(() => scalarOp('div', sum(x, axis, keepdims), count));
}

/** Index (int32) of the first largest value along `axis`; over the flattened tensor when omitted. */
export function argmax(x: Tensor, axis?: number, keepdims = false): Tensor {
  expectTensor('argmax', x);
  expectDtype('argmax', x, 'float32');
  if (axis === undefined) return scope(() => argmax(reshape(x, [x.size]), 0, false));
  const a = normAxis('argmax', axis, x.rank, x.shape);
  if (x.shape[a] === 0) throw new ShapeError(`argmax: axis ${axis} of ${fmtShape(x.shape)} is empty`);
  const p = axisParams(x.shape, a);
  const outShape = keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  const out = allocTensor(x.device, outShape, 'int32');
  x.device.backend.argmax(x.buffer('argmax'), out.buffer('argmax'), p);
  return out;
}

/** Repeats `x` along broadcast axes to `shape` (NumPy rules), as a new contiguous tensor. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('broadcastTo', x);
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(target, shape)) {
    throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  if (sameShape(x.shape, shape)) return recordOp('broadcastTo', [x], x.view(shape), { fromShape: x.shape });
  const out = allocTensor(x.device, shape, x.dtype);
  x.device.backend.copy(x.buffer('broadcastTo'), out.buffer('broadcastTo'), {
    shape,
    srcStrides: broadcastStrides(x.shape, shape),
    dstStrides: contiguousStrides(shape),
    srcOffset: 0,
    dstOffset: 0,
    size: out.size,
  });
  return recordOp('broadcastTo', [x], out, { fromShape: x.shape });
}

/**
 * Sums a broadcast result back down to `shape`: the adjoint of broadcasting, used by gradient rules
 * to give each input a gradient of its own shape.
 */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  return scope(() => reshape(axes.length > 0 ? sum(x, axes, true) : x, shape));
}

function reduceAxes(op: ReduceOp, x: Tensor, axis: Axis | undefined, keepdims: boolean): Tensor {
  expectTensor(op, x);
  expectDtype(op, x, 'float32');
  const axes = resolveAxes(op, x, axis);
  if (axes.length === 0) return x;
  if (axes.length === 1 && axis !== undefined) return reduceAxis(op, x, axes[0]!, keepdims);
  return scope(() => {
    if (axis === undefined && x.rank > 1) {
      // Reducing everything is one pass over the flattened tensor.
      const flat = reduceAxis(op, reshape(x, [x.size]), 0, false);
      return reshape(flat, keepdims ? x.shape.map(() => 1) : []);
    }
    let result = x;
    for (const a of [...axes].sort((p, q) => q - p)) result = reduceAxis(op, result, a, true);
    return keepdims ? result : reshape(result, x.shape.filter((_, i) => !axes.includes(i)));
  });
}

/** One reduction kernel over one axis: the primitive the autograd package differentiates. */
function reduceAxis(op: ReduceOp, x: Tensor, axis: number, keepdims: boolean): Tensor {
  if (op === 'max' && x.shape[axis] === 0) throw new ShapeError(`max: axis ${axis} of ${fmtShape(x.shape)} is empty`);
  const outShape = keepdims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  const out = allocTensor(x.device, outShape, 'float32');
  x.device.backend.reduce(op, x.buffer(op), out.buffer(op), axisParams(x.shape, axis));
  return recordOp(op, [x], out, { axis, keepdims });
}

function resolveAxes(op: string, x: Tensor, axis: Axis | undefined): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const axes = list.map((a) => normAxis(op, a, x.rank, x.shape));
  if (new Set(axes).size !== axes.length) throw new ShapeError(`${op}: repeated axis in [${list.join(',')}]`);
  return axes;
}

/** Views `shape` as [outer, axis, inner] around `axis`. */
export function axisParams(shape: readonly number[], axis: number): { outer: number; axis: number; inner: number } {
  return {
    outer: sizeOf(shape.slice(0, axis)),
    axis: shape[axis]!,
    inner: sizeOf(shape.slice(axis + 1)),
  };
}
