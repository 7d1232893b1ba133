import type { BinaryOp, ScalarOp } from '../backend.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastShapes, broadcastStrides, contiguousStrides, sameShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, checkWritable, commonDevice, expectDtype, expectTensor } from './util.ts';

/*
 * In-place updates: the only ops that change a tensor's values. They exist for optimizers and gradient
 * accumulation, which must not allocate a new parameter each step. Each bumps the storage's version so
 * the tape can refuse a backward pass through a value that was overwritten after it was saved.
 */


/** a = a (op) b, with b a tensor broadcast to a's shape or a number. */
export function binaryInPlace(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
  const name = `${op}_`;
  checkWritable(name, a);
  if (typeof b === 'number') {
    const tmp = allocTensor(a.device, a.shape, 'float32');
    a.device.backend.scalar(op as ScalarOp, a.buffer(name), b, tmp.buffer(name), a.size);
    copyInto(tmp, a);
    tmp.dispose();
    return a;
  }
  expectTensor(name, b);
  commonDevice(name, [a, b]);
  expectDtype(name, b, 'float32');
  if (!sameShape(broadcastShapes(name, a.shape, b.shape), a.shape)) {
    throw new ShapeError(`${name}: cannot broadcast ${fmtShape(b.shape)} into ${fmtShape(a.shape)} in place`);
  }
  a.device.backend.binaryInPlace(op, a.buffer(name), b.buffer(name), {
    outShape: a.shape,
    aStrides: contiguousStrides(a.shape),
    bStrides: broadcastStrides(b.shape, a.shape),
    size: a.size,
  });
  return a;
}

/** y += alpha * x (same shapes): SGD's `p -= lr * g` is `axpy_(p, g, -lr)`. */
export function axpy_(y: Tensor, x: Tensor, alpha: number): Tensor {
  checkWritable('axpy_', y);
  expectTensor('axpy_', x);
  commonDevice('axpy_', [y, x]);
  if (!sameShape(x.shape, y.shape)) throw new ShapeError(`axpy_: shapes differ: ${fmtShape(y.shape)} and ${fmtShape(x.shape)}`);
  y.device.backend.axpy(y.buffer('axpy_'), x.buffer('axpy_'), alpha, y.size);
  return y;
}

/** Sets every element to `value`. */
export function fill_(t: Tensor, value: number): Tensor {
  checkWritable('fill_', t);
  t.device.backend.fill(t.buffer('fill_'), t.size, value, t.dtype);
  return t;
}

/** Copies `src`'s values into `dst` (same shape and device), e.g. when loading a checkpoint. */
export function assign_(dst: Tensor, src: Tensor): Tensor {
  checkWritable('assign_', dst);
  expectTensor('assign_', src);
  commonDevice('assign_', [dst, src]);
  if (!sameShape(dst.shape, src.shape) || dst.dtype !== src.dtype) {
    throw new ShapeError(`assign_: ${fmtShape(src.shape)} ${src.dtype} into ${fmtShape(dst.shape)} ${dst.dtype}`);
  }
  copyInto(src, dst);
  return dst;
}

function copyInto(src: Tensor, dst: Tensor): void {
  const strides = contiguousStrides(src.shape);
  src.device.backend.copy(src.buffer('copy'), dst.buffer('copy'), {
    shape: src.shape,
    srcStrides: strides,
    dstStrides: strides,
    srcOffset: 0,
    dstOffset: 0,
    size: src.size,
  });
}
