import { recordOp } from '../engine.ts';
import { ShapeError, ValueError, fmtShape } from '../errors.ts';
import { contiguousStrides, inferReshape, normAxis, sameShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, commonDevice, expectTensor } from './util.ts';
import { scope } from '../scope.ts';

/** The same values with a new shape (one `-1` is inferred). Shares the buffer: no copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('reshape', x);
  const target = inferReshape('reshape', x.shape, shape);
  return recordOp('reshape', [x], x.view(target), { fromShape: x.shape });
}

/** Collapses all axes into one. */
export const flatten = (x: Tensor): Tensor => reshape(x, [x.size]);

/** Inserts an axis of length 1 at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.rank + 1, x.shape);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Removes axes of length 1 (all of them, or just `axis`). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.rank, x.shape);
  if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${axis} of ${fmtShape(x.shape)} has length ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Reorders the axes: output axis i is input axis perm[i]. Copies into a contiguous tensor. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  expectTensor('permute', x);
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ShapeError(`permute: [${perm.join(',')}] is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  const outShape = perm.map((p) => x.shape[p]!);
  if (perm.every((p, i) => p === i)) return recordOp('permute', [x], x.view(outShape), { perm });
  const srcStrides = contiguousStrides(x.shape);
  const out = allocTensor(x.device, outShape, x.dtype, true);
  x.device.backend.copy(x.buffer('permute'), out.buffer('permute'), {
    shape: outShape,
    srcStrides: perm.map((p) => srcStrides[p]!),
    dstStrides: contiguousStrides(outShape),
    srcOffset: 0,
    dstOffset: 0,
    size: out.size,
  });
  return recordOp('permute', [x], out, { perm });
}

/** Reverses the axes (`.T`): the matrix transpose for rank 2. */
export function transpose(x: Tensor): Tensor {
  return permute(x, x.shape.map((_, i) => x.rank - 1 - i));
}

/** Swaps two axes. */
export function swapaxes(x: Tensor, a: number, b: number): Tensor {
  const p = normAxis('swapaxes', a, x.rank, x.shape);
  const q = normAxis('swapaxes', b, x.rank, x.shape);
  const perm = x.shape.map((_, i) => i);
  [perm[p], perm[q]] = [q, p];
  return permute(x, perm);
}

/** Elements start..end-1 along `axis` (negative indices count from the end; `end` defaults to the length). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  expectTensor('slice', x);
  const a = normAxis('slice', axis, x.rank, x.shape);
  const len = x.shape[a]!;
  const s = start < 0 ? start + len : start;
  const e = end === undefined ? len : end < 0 ? end + len : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > len || s > e) {
    throw new ShapeError(`slice: range [${start}, ${end ?? len}) out of bounds for axis ${axis} of ${fmtShape(x.shape)}`);
  }
  const outShape = x.shape.map((d, i) => (i === a ? e - s : d));
  const out = allocTensor(x.device, outShape, x.dtype, true);
  const strides = contiguousStrides(x.shape);
  if (out.size > 0) {
    x.device.backend.copy(x.buffer('slice'), out.buffer('slice'), {
      shape: outShape,
      srcStrides: strides,
      dstStrides: contiguousStrides(outShape),
      srcOffset: s * strides[a]!,
      dstOffset: 0,
      size: out.size,
    });
  }
  return recordOp('slice', [x], out, { axis: a, start: s, end: e });
}

/**
 * The adjoint of `slice`: a zero tensor of `fullShape` with `g` written at start..start+len along `axis`.
 * Used by the gradient rules of slice and concat.
 */
export function padSlice(g: Tensor, fullShape: readonly number[], axis: number, start: number): Tensor {
  const out = allocTensor(g.device, fullShape, g.dtype);
  const strides = contiguousStrides(fullShape);
  if (g.size > 0) {
    g.device.backend.copy(g.buffer('padSlice'), out.buffer('padSlice'), {
      shape: g.shape,
      srcStrides: contiguousStrides(g.shape),
      dstStrides: strides,
      srcOffset: 0,
      dstOffset: start * strides[axis]!,
      size: g.size,
    });
  }
  return out;
}

/** Joins tensors along an existing axis (`torch.cat`). */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isTensorList(tensors)) throw new ValueError('concat: need a non-empty list of tensors');
  tensors.forEach((t, i) => expectTensor('concat', t, `tensor ${i}`));
  const device = commonDevice('concat', tensors);
  const first = tensors[0]!;
  const a = normAxis('concat', axis, first.rank, first.shape);
  for (const t of tensors) {
    const ok = t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!ok) {
      const list = tensors.map((u) => `${fmtShape(u.shape)} ${u.dtype}`).join(', ');
      throw new ShapeError(`concat: tensors must match except along axis ${axis}: ${list}`);
    }
  }
  const sizes = tensors.map((t) => t.shape[a]!);
  const outShape = first.shape.map((d, i) => (i === a ? sizes.reduce((p, q) => p + q, 0) : d));
  const out = allocTensor(device, outShape, first.dtype, true); // the parts cover it
  const dstStrides = contiguousStrides(outShape);
  let offset = 0;
  for (const t of tensors) {
    if (t.size > 0) {
      device.backend.copy(t.buffer('concat'), out.buffer('concat'), {
        shape: t.shape,
        srcStrides: contiguousStrides(t.shape),
        dstStrides,
        srcOffset: 0,
        dstOffset: offset * dstStrides[a]!,
        size: t.size,
      });
    }
    offset += t.shape[a]!;
  }
  return recordOp('concat', [...tensors], out, { axis: a, sizes });
}

/** Joins equally shaped tensors along a new axis (`torch.stack`). */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isTensorList(tensors)) throw new ValueError('stack: need a non-empty list of tensors');
  const first = tensors[0]!;
  for (const t of tensors) {
    expectTensor('stack', t);
    if (!sameShape(t.shape, first.shape)) {
      throw new ShapeError(`stack: all tensors need the same shape: ${tensors.map((u) => fmtShape(u.shape)).join(', ')}`);
    }
  }
  const a = normAxis('stack', axis, first.rank + 1, first.shape);
  return scope(() => concat(tensors.map((t) => unsqueeze(t, a)), a));
}


// Array.isArray would widen the element type to any, so test the shape of the argument by hand.
function isTensorList(value: readonly Tensor[]): boolean {
  return Array.isArray(value as unknown) && value.length > 0;
}
