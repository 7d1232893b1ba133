import type { BinaryOp, ScalarOp, UnaryOp } from '../backend.ts';
import type { DType } from '../dtype.ts';
import { recordOp } from '../engine.ts';
import { ValueError } from '../errors.ts';
import { broadcastShapes, broadcastStrides } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, commonDevice, expectDtype, expectTensor } from './util.ts';

/** Applies one elementwise unary kernel; the gradient rule for `op` lives in the autograd package. */
export function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  expectTensor(op, x);
  expectDtype(op, x, 'float32');
  const out = allocTensor(x.device, x.shape, 'float32', true);
  x.device.backend.unary(op, x.buffer(op), out.buffer(op), x.size);
  return recordOp(op, [x], out);
}

/** -x */
export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
/** e^x */
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unaryOp('log', x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
/** Logistic sigmoid 1 / (1 + e^-x). */
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
/** x * x */
export const square = (x: Tensor): Tensor => unaryOp('square', x);
/** |x| */
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);

/** x (op) s for a host number s; used for tensor-scalar arithmetic. */
export function scalarOp(op: ScalarOp, x: Tensor, s: number): Tensor {
  expectTensor(op, x);
  expectDtype(op, x, 'float32');
  if (typeof s !== 'number') throw new ValueError(`${op}: scalar operand must be a number, got ${typeof s}`);
  const out = allocTensor(x.device, x.shape, 'float32', true);
  x.device.backend.scalar(op, x.buffer(op), s, out.buffer(op), x.size);
  return recordOp(`${op}Scalar` as const, [x], out, { scalar: s, scalarOp: op });
}

/** a (op) b for two tensors, with NumPy broadcasting. */
export function binaryOp(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  expectTensor(op, a, 'first operand');
  expectTensor(op, b, 'second operand');
  const device = commonDevice(op, [a, b]);
  expectDtype(op, a, 'float32', 'first operand');
  expectDtype(op, b, 'float32', 'second operand');
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const out = allocTensor(device, outShape, 'float32', true);
  device.backend.binary(op, a.buffer(op), b.buffer(op), out.buffer(op), {
    outShape,
    aStrides: broadcastStrides(a.shape, outShape),
    bStrides: broadcastStrides(b.shape, outShape),
    size: out.size,
  });
  return recordOp(op, [a, b], out);
}

type Operand = Tensor | number;

function dispatch(op: BinaryOp, scalarForward: ScalarOp, scalarReversed: ScalarOp, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new ValueError(`${op}: at least one operand must be a Tensor`);
  }
  if (typeof b === 'number') return scalarOp(scalarForward, a as Tensor, b);
  if (typeof a === 'number') return scalarOp(scalarReversed, b, a);
  return binaryOp(op, a, b);
}

/** a + b (tensor or number on either side, broadcasting). */
export const add = (a: Operand, b: Operand): Tensor => dispatch('add', 'add', 'add', a, b);
/** a - b */
export const sub = (a: Operand, b: Operand): Tensor => dispatch('sub', 'sub', 'rsub', a, b);
/** a * b */
export const mul = (a: Operand, b: Operand): Tensor => dispatch('mul', 'mul', 'mul', a, b);
/** a / b */
export const div = (a: Operand, b: Operand): Tensor => dispatch('div', 'div', 'rdiv', a, b);
/** Elementwise maximum. */
export const maximum = (a: Operand, b: Operand): Tensor => dispatch('maximum', 'maximum', 'maximum', a, b);
/** Elementwise minimum. */
export const minimum = (a: Operand, b: Operand): Tensor => dispatch('minimum', 'minimum', 'minimum', a, b);
/** x ** p for a number p. */
export const pow = (x: Tensor, p: number): Tensor => scalarOp('pow', x, p);

/** Converts to another dtype (float32 -> int32 truncates toward zero). Not differentiable. */
export function cast(x: Tensor, dtype: DType): Tensor {
  expectTensor('cast', x);
  if (x.dtype === dtype) return x.view(x.shape);
  const out = allocTensor(x.device, x.shape, dtype);
  x.device.backend.cast(x.buffer('cast'), out.buffer('cast'), x.size, x.dtype, dtype);
  return out;
}
