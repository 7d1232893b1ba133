import { type Device, cpu, tryGpu, webgpu } from '@tinytape/tensor';
import type { DeviceChoice } from './config.ts';

/**
 * The device a command runs on: `cpu`, `webgpu` (an error when there is no adapter), or `auto`,
 * which takes WebGPU when an adapter exists and otherwise says, in one line, that it uses the CPU.
 */
export async function pickDevice(choice: DeviceChoice, note: (line: string) => void): Promise<Device> {
  if (choice === 'cpu') return cpu();
  if (choice === 'webgpu') return webgpu();
  const device = await tryGpu();
  if (device.kind === 'cpu') note('no WebGPU adapter found; using the CPU device');
  return device;
}
