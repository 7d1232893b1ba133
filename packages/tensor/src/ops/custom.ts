import type { CustomKernel, KernelParams } from '../custom-kernel.ts';
import { isGradEnabled, recordOp } from '../engine.ts';
import { ShapeError, StateError, ValueError, fmtShape } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, checkWritable, commonDevice, expectDtype, expectTensor } from './util.ts';

/**
 * Runs a kernel made with `defineKernel` on the inputs' device and returns its outputs, one tensor of
 * each shape in `outputShapes`; `updates` are the tensors it changes in place (`KernelSpec.updates`).
 * A differentiable kernel is recorded on the tape under its name, with `params` as the attributes its
 * gradient rule reads; any other kernel refuses inputs that need a gradient while recording is on
 * (call it inside `noGrad`).
 */
export function runKernel<P extends KernelParams>(
  kernel: CustomKernel<P>,
  inputs: readonly Tensor[],
  outputShapes: readonly (readonly number[])[],
  params: P,
  updates: readonly Tensor[] = [],
): Tensor[] {
  const op = kernel.name;
  const updated = kernel.updates ?? [];
  if (inputs.length !== kernel.inputs.length || outputShapes.length !== kernel.outputs.length || updates.length !== updated.length) {
    throw new ValueError(
      `${op}: expected ${kernel.inputs.length} inputs, ${updated.length} updated tensors and ${kernel.outputs.length} output shapes, ` +
        `got ${inputs.length}, ${updates.length} and ${outputShapes.length}`,
    );
  }
  const ints = new Set(kernel.intInputs ?? []);
  inputs.forEach((t, i) => {
    const name = kernel.inputs[i]!;
    expectTensor(op, t, name);
    expectDtype(op, t, ints.has(name) ? 'int32' : 'float32', name);
  });
  updates.forEach((t, i) => checkWritable(`${op} (${updated[i]})`, t));
  for (const shape of outputShapes) {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(`${op}: invalid output shape ${fmtShape(shape)}`);
  }
  if (inputs.length + updates.length === 0) throw new ValueError(`${op}: a kernel needs at least one input or updated tensor (it names the device)`);
  const device = commonDevice(op, [...inputs, ...updates]);
  if (kernel.differentiable !== true && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    throw new StateError(`${op}: not differentiable; call it inside noGrad`);
  }
  const outputs = outputShapes.map((shape) => allocTensor(device, shape, 'float32', kernel.writesAll === true));
  // The backend sees updated buffers as outputs that come first (they are written, and bound writable).
  const written = [...updates, ...outputs];
  device.backend.runKernel(
    kernel,
    inputs.map((t) => t.buffer(op)),
    written.map((t) => t.buffer(op)),
    written.map((t) => t.size),
    params,
  );
  if (kernel.differentiable === true) recordOp(op, [...inputs], outputs[0]!, { ...params });
  return outputs;
}
