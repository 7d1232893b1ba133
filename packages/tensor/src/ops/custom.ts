import type { CustomKernel, KernelParams } from '../custom-kernel.ts';
import { isGradEnabled, recordOp } from '../engine.ts';
import { ShapeError, StateError, ValueError, fmtShape } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, commonDevice, expectDtype, expectTensor } from './util.ts';

/**
 * Runs a kernel made with `defineKernel` on the inputs' device and returns its outputs, one tensor of
 * each shape in `outputShapes`. A differentiable kernel is recorded on the tape under its name, with
 * `params` as the attributes its gradient rule reads; any other kernel refuses inputs that need a
 * gradient while recording is on (call it inside `noGrad`).
 */
export function runKernel<P extends KernelParams>(
  kernel: CustomKernel<P>,
  inputs: readonly Tensor[],
  outputShapes: readonly (readonly number[])[],
  params: P,
): Tensor[] {
  const op = kernel.name;
  if (inputs.length !== kernel.inputs.length || outputShapes.length !== kernel.outputs.length) {
    throw new ValueError(
      `${op}: expected ${kernel.inputs.length} inputs and ${kernel.outputs.length} output shapes, got ${inputs.length} and ${outputShapes.length}`,
    );
  }
  inputs.forEach((t, i) => {
    expectTensor(op, t, kernel.inputs[i]);
    expectDtype(op, t, 'float32', kernel.inputs[i]);
  });
  for (const shape of outputShapes) {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(`${op}: invalid output shape ${fmtShape(shape)}`);
  }
  if (inputs.length === 0) throw new ValueError(`${op}: a kernel needs at least one input tensor (it names the device)`);
  const device = commonDevice(op, inputs);
  if (kernel.differentiable !== true && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    throw new StateError(`${op}: not differentiable; call it inside noGrad`);
  }
  const outputs = outputShapes.map((shape) => allocTensor(device, shape, 'float32', kernel.writesAll === true));
  device.backend.runKernel(
    kernel,
    inputs.map((t) => t.buffer(op)),
    outputs.map((t) => t.buffer(op)),
    outputs.map((t) => t.size),
    params,
  );
  if (kernel.differentiable === true) recordOp(op, [...inputs], outputs[0]!, { ...params });
  return outputs;
}
