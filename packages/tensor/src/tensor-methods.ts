/*
 * Method-call spellings of the ops (`x.matmul(w).add(b).tanh()`), attached to Tensor's prototype.
 * Each just forwards to the function in ops/, so there is one implementation and one place to read.
 */
import type { Device } from './device.ts';
import type { DType } from './dtype.ts';
import * as elementwise from './ops/elementwise.ts';
import { argmax, max, mean, sum, type Axis } from './ops/reduce.ts';
import { matmul, type MatmulOptions } from './ops/matmul.ts';
import { flatten, permute, reshape, slice, squeeze, swapaxes, transpose, unsqueeze } from './ops/shape-ops.ts';
import { gather, oneHot } from './ops/index-ops.ts';
import { logSoftmax, softmax } from './ops/nn.ts';
import { assign_, axpy_, binaryInPlace, fill_ } from './ops/inplace.ts';
import { detach, to } from './ops/transfer.ts';
import { Tensor } from './tensor.ts';

type Operand = Tensor | number;

declare module './tensor.ts' {
  interface Tensor {
    add(b: Operand): Tensor;
    sub(b: Operand): Tensor;
    mul(b: Operand): Tensor;
    div(b: Operand): Tensor;
    pow(p: number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    sqrt(): Tensor;
    square(): Tensor;
    abs(): Tensor;
    matmul(b: Tensor, opts?: MatmulOptions): Tensor;
    sum(axis?: Axis, keepdims?: boolean): Tensor;
    mean(axis?: Axis, keepdims?: boolean): Tensor;
    max(axis?: Axis, keepdims?: boolean): Tensor;
    argmax(axis?: number, keepdims?: boolean): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(): Tensor;
    squeeze(axis?: number): Tensor;
    unsqueeze(axis: number): Tensor;
    permute(perm: readonly number[]): Tensor;
    /** Reverses the axes (the matrix transpose for rank 2), like PyTorch's `.T`. */
    readonly T: Tensor;
    transpose(): Tensor;
    swapaxes(a: number, b: number): Tensor;
    slice(axis: number, start: number, end?: number): Tensor;
    gather(indices: Tensor): Tensor;
    oneHot(depth: number): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    cast(dtype: DType): Tensor;
    detach(): Tensor;
    to(device: Device): Promise<Tensor>;
    add_(b: Operand): Tensor;
    sub_(b: Operand): Tensor;
    mul_(b: Operand): Tensor;
    div_(b: Operand): Tensor;
    /** this += alpha * x */
    axpy_(x: Tensor, alpha: number): Tensor;
    fill_(value: number): Tensor;
    zero_(): Tensor;
    assign_(src: Tensor): Tensor;
  }
}

const p = Tensor.prototype;
p.add = function (b) { return elementwise.add(this, b); };
p.sub = function (b) { return elementwise.sub(this, b); };
p.mul = function (b) { return elementwise.mul(this, b); };
p.div = function (b) { return elementwise.div(this, b); };
p.pow = function (e) { return elementwise.pow(this, e); };
p.neg = function () { return elementwise.neg(this); };
p.exp = function () { return elementwise.exp(this); };
p.log = function () { return elementwise.log(this); };
p.tanh = function () { return elementwise.tanh(this); };
p.sigmoid = function () { return elementwise.sigmoid(this); };
p.relu = function () { return elementwise.relu(this); };
p.sqrt = function () { return elementwise.sqrt(this); };
p.square = function () { return elementwise.square(this); };
p.abs = function () { return elementwise.abs(this); };
p.cast = function (dtype) { return elementwise.cast(this, dtype); };
p.matmul = function (b, opts) { return matmul(this, b, opts); };
p.sum = function (axis, keepdims) { return sum(this, axis, keepdims); };
p.mean = function (axis, keepdims) { return mean(this, axis, keepdims); };
p.max = function (axis, keepdims) { return max(this, axis, keepdims); };
p.argmax = function (axis, keepdims) { return argmax(this, axis, keepdims); };
p.reshape = function (shape) { return reshape(this, shape); };
p.flatten = function () { return flatten(this); };
p.squeeze = function (axis) { return squeeze(this, axis); };
p.unsqueeze = function (axis) { return unsqueeze(this, axis); };
p.permute = function (perm) { return permute(this, perm); };
Object.defineProperty(p, 'T', { get(this: Tensor) { return transpose(this); } });
p.transpose = function () { return transpose(this); };
p.swapaxes = function (a, b) { return swapaxes(this, a, b); };
p.slice = function (axis, start, end) { return slice(this, axis, start, end); };
p.gather = function (indices) { return gather(this, indices); };
p.oneHot = function (depth) { return oneHot(this, depth); };
p.softmax = function (axis) { return softmax(this, axis); };
p.logSoftmax = function (axis) { return logSoftmax(this, axis); };
p.detach = function () { return detach(this); };
p.to = function (device) { return to(this, device); };
p.add_ = function (b) { return binaryInPlace('add', this, b); };
p.sub_ = function (b) { return binaryInPlace('sub', this, b); };
p.mul_ = function (b) { return binaryInPlace('mul', this, b); };
p.div_ = function (b) { return binaryInPlace('div', this, b); };
p.axpy_ = function (x, alpha) { return axpy_(this, x, alpha); };
p.fill_ = function (value) { return fill_(this, value); };
// Marked as known zero, so that backward can take a new gradient as this tensor's replacement.
p.zero_ = function () {
  fill_(this, 0);
  this.storage.markZeroed();
  return this;
};
p.assign_ = function (src) { return assign_(this, src); };
