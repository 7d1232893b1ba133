/**
 * @tinytape/tensor — tensors on the CPU and on WebGPU, with a kernel-table backend interface.
 * Importing this module also attaches the method spellings (`x.add(y)`) to Tensor.
 */
import './tensor-methods.ts';

export { Tensor, Storage, type NestedArray } from './tensor.ts';
export type { DType, TypedArray } from './dtype.ts';
export { Device, type DeviceKind, DEVICE_NAMES, cpu, reference, device, webgpu, tryGpu, releaseDevices } from './device.ts';
export { Generator, manualSeed, defaultGenerator } from './random.ts';
export { scope, keep, type Keepable } from './scope.ts';
export {
  engine,
  recordOp,
  setRecorder,
  isGradEnabled,
  setGradEnabled,
  type OpRecord,
  type ClosingScope,
  type Recorder,
} from './engine.ts';
export { TinytapeError, ShapeError, DTypeError, DeviceError, StateError, ValueError, fmtShape } from './errors.ts';
export { sizeOf, broadcastShapes, contiguousStrides, sameShape } from './shape.ts';
export type * from './backend.ts';
export * from './ops/creation.ts';
export * from './ops/elementwise.ts';
export * from './ops/matmul.ts';
export * from './ops/reduce.ts';
export * from './ops/shape-ops.ts';
export * from './ops/index-ops.ts';
export * from './ops/nn.ts';
export * from './ops/inplace.ts';
export * from './ops/transfer.ts';
export type { WebGPUBackend } from './backends/webgpu/index.ts';
export { startProfile, formatProfile, type Profile, type KernelTiming } from './profile.ts';
export {
  defineKernel,
  customKernels,
  type CustomKernel,
  type KernelSpec,
  type KernelParams,
  type HostKernel,
  type HostKernelArgs,
  type WgslKernel,
  type WgslScalar,
  type WgslTarget,
} from './custom-kernel.ts';
export {
  registerWasmExtension,
  wasmRuntime,
  FunctionBuilder,
  ModuleBuilder,
  type WasmRuntime,
  type WasmLibrary,
  type WasmModuleExtension,
  type KernelShape,
  type Label,
  type ValType,
} from './backends/cpu/wasm/wasm-extensions.ts';
export { runKernel } from './ops/custom.ts';
export { traceKernels, kernelTraceEnabled } from './debug-trace.ts';
