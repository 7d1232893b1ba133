import type { Device } from '../device.ts';
import { type DType, type TypedArray, checkDtype } from '../dtype.ts';
import { isGradEnabled } from '../engine.ts';
import { DTypeError, DeviceError, StateError, fmtShape } from '../errors.ts';
import { sizeOf } from '../shape.ts';
import { Storage, Tensor } from '../tensor.ts';

/**
 * A fresh zero-filled tensor on `device`; ops allocate their outputs with it. An op whose kernel
 * writes every element of the output passes `overwritten` and skips the zero fill (see Backend.alloc).
 */
export function allocTensor(device: Device, shape: readonly number[], dtype: DType, overwritten = false): Tensor {
  checkDtype(dtype);
  const size = sizeOf(shape);
  return new Tensor(shape, dtype, new Storage(device, device.backend.alloc(size, dtype, overwritten), size));
}

/** A tensor holding a copy of host data. */
export function uploadTensor(device: Device, shape: readonly number[], data: TypedArray): Tensor {
  const dtype: DType = data instanceof Int32Array ? 'int32' : 'float32';
  return new Tensor(shape, dtype, new Storage(device, device.backend.upload(data), data.length));
}

/** The one device all inputs share, or a DeviceError naming each input's device. */
export function commonDevice(op: string, tensors: readonly Tensor[]): Device {
  const device = tensors[0]!.device;
  for (const t of tensors) {
    if (t.device !== device) {
      const list = tensors.map((x) => `${fmtShape(x.shape)} on ${x.device.kind}`).join(', ');
      throw new DeviceError(`${op}: tensors are on different devices (${list}); move them with await t.to(device)`);
    }
  }
  return device;
}

/** Throws a DTypeError unless `t` has the dtype the op needs. */
export function expectDtype(op: string, t: Tensor, dtype: DType, role = 'input'): void {
  if (t.dtype !== dtype) {
    throw new DTypeError(`${op}: ${role} must be ${dtype}, got ${t.dtype} tensor ${fmtShape(t.shape)}`);
  }
}

/** Throws unless the value is a Tensor (catches plain arrays passed where tensors are expected). */
export function expectTensor(op: string, value: unknown, role = 'input'): asserts value is Tensor {
  if (!(value instanceof Tensor)) {
    throw new DTypeError(`${op}: ${role} must be a Tensor, got ${value === null ? 'null' : typeof value}`);
  }
}

/** Checks that `t` may be overwritten in place (float32, not recording a grad-requiring tensor) and bumps its version. */
export function checkWritable(op: string, t: Tensor): void {
  expectTensor(op, t);
  expectDtype(op, t, 'float32');
  if (t.requiresGrad && isGradEnabled()) {
    throw new StateError(`${op}: tensor ${fmtShape(t.shape)} requires grad; update it inside noGrad(() => ...)`);
  }
  t.buffer(op);
  t.storage.version++;
}
