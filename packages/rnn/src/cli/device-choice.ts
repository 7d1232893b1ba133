import { type Device, device as deviceNamed, tryGpu } from '@tinytape/tensor';
import type { DeviceChoice } from './config.ts';

/**
 * The device a command runs on: `cpu` (the fast CPU backend, also called `wasm`), `reference` (the
 * plain-loop backend every other one is tested against: slow, for checking and reading), `webgpu`
 * (an error when there is no adapter), or `auto`, which takes WebGPU when an adapter exists and
 * otherwise says, in one line, that it uses the CPU.
 */
export async function pickDevice(choice: DeviceChoice | 'wasm' | 'reference', note: (line: string) => void): Promise<Device> {
  if (choice !== 'auto') return deviceNamed(choice);
  const device = await tryGpu();
  if (device.kind === 'cpu') note('no WebGPU adapter found; using the CPU device');
  return device;
}
