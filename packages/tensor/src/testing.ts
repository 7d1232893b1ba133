/**
 * Test support shared by every package's tests: the devices to run each test on.
 *
 * The WebGPU device is required in CI (CI=true): a missing adapter fails the run, because CI installs
 * lavapipe precisely so these tests run. On a developer machine without an adapter the WebGPU tests
 * are left out with a loud warning instead.
 */
import { type Device, cpu, reference, releaseDevices, webgpu } from './device.ts';
import { DeviceError } from './errors.ts';

/** Which devices `testDevices` returns besides the CPU and WebGPU ones. */
export interface TestDeviceOptions {
  /** Also the reference device, first (for checks cheap enough to run on the plain loops too). */
  reference?: boolean;
}

/**
 * The CPU device, plus the WebGPU device when there is an adapter (mandatory under CI), and the
 * reference device before them when asked for.
 */
export async function testDevices(options: TestDeviceOptions = {}): Promise<Device[]> {
  const first = options.reference === true ? [reference()] : [];
  try {
    const gpu = await webgpu();
    announce(gpu);
    return [...first, cpu(), gpu];
  } catch (error) {
    if (!(error instanceof DeviceError)) throw error;
    if (process.env.CI) {
      throw new Error(`CI requires a WebGPU adapter (Mesa lavapipe), but none was found: ${error.message}`);
    }
    console.warn(
      '\n' + '!'.repeat(78) + '\n!! NO WebGPU ADAPTER: WebGPU tests are SKIPPED on this machine (CPU only).\n' +
        '!! Install Mesa 25 lavapipe (see README) to run them; CI always does.\n' + '!'.repeat(78) + '\n',
    );
    return [...first, cpu()];
  }
}

let announced = false;
function announce(device: Device): void {
  if (announced) return;
  announced = true;
  console.log(`[tinytape] WebGPU tests run on ${device.description}`);
}

/** Releases the WebGPU device so the test process can exit; call it from afterAll. */
export async function releaseTestDevices(): Promise<void> {
  await releaseDevices();
}
