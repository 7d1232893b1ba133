/**
 * Typed errors of the tensor engine. Each names the op and the offending shapes, dtypes or devices, so
 * a user sees `matmul: inner dimensions differ: [32,28] x [512,28]`, not a failure deep inside a kernel.
 */
export class TinytapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the op (inner dimensions, broadcasting, reshape sizes, axes). */
export class ShapeError extends TinytapeError {}
/** A dtype the op does not accept (e.g. float targets for crossEntropy). */
export class DTypeError extends TinytapeError {}
/** Tensors on different devices in one op, or a device that cannot be had. */
export class DeviceError extends TinytapeError {}
/** A tensor used after `dispose()`, or a modified-in-place tensor the tape still needs. */
export class StateError extends TinytapeError {}
/** A bad argument value (non-integer size, NaN seed, ...). */
export class ValueError extends TinytapeError {}

/** Formats a shape the way error messages print it: `[32,28]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
