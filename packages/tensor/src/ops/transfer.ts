import type { Device } from '../device.ts';
import { engine } from '../engine.ts';
import type { Tensor } from '../tensor.ts';
import { uploadTensor } from './util.ts';

/**
 * A copy of `t` on `device` (the same tensor object when it is already there). Moving off a GPU reads the
 * data back, hence async. Not differentiable: move data and parameters before building a graph.
 */
export async function to(t: Tensor, device: Device): Promise<Tensor> {
  if (t.device === device) return t;
  const data = await t.toArray();
  const moved = uploadTensor(device, t.shape, data);
  moved.requiresGrad = t.requiresGrad;
  moved.name = t.name;
  return moved;
}

/** A tensor over the same values that the tape does not follow (`.detach()`): it cuts the graph. */
export function detach(t: Tensor): Tensor {
  return t.view(t.shape);
}

/** What the engine holds: live tensors overall, and buffers/bytes per device that has been used. */
export interface MemoryReport {
  liveTensors: number;
  devices: Record<string, { liveBuffers: number; liveBytes: number; pooledBuffers: number; pooledBytes: number }>;
}

/** A memory report over the given devices (like `tf.memory()`); pass every device you use. */
export function memory(...devices: Device[]): MemoryReport {
  const report: MemoryReport = { liveTensors: engine.liveTensors, devices: {} };
  for (const d of devices) report.devices[d.kind] = d.backend.memory();
  return report;
}
