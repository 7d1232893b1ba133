/**
 * What can go wrong with a WebGPU device after it was created, turned into `DeviceError`s a user can
 * read: the device being lost (driver reset, GPU removed, `device.destroy()`), a buffer larger than the
 * adapter allows, and the driver running out of memory.
 *
 * WebGPU reports most of these asynchronously — `device.lost` resolves later, an out-of-memory
 * `createBuffer` returns an unusable buffer and reports through an error scope — while tensor ops are
 * synchronous. So the fault is recorded when it arrives and raised by the next op that touches the
 * device (`GpuContext.check()`), instead of letting later kernels fail with an opaque validation error
 * deep inside Dawn. A limit violation is known up front and thrown at once.
 */
import { DeviceError } from '../../errors.ts';

/** Fresh buffers at least this large are created inside an out-of-memory error scope. */
const OOM_SCOPE_BYTES = 1 << 20;

/** Bytes as a person reads them: `268435456 bytes (256.0 MiB)`. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = '';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return unit === '' ? `${bytes} bytes` : `${bytes} bytes (${value.toFixed(1)} ${unit})`;
}

/** The first fault a device reported; every later use of the device raises it. */
export class GpuFaults {
  private fault: DeviceError | null = null;

  /** Whether the device can no longer be used. */
  get faulted(): boolean {
    return this.fault !== null;
  }

  /** Records that the device is gone; `reason` is WebGPU's `GPUDeviceLostInfo` as `reason: message`. */
  markLost(reason: string): void {
    this.fault ??= new DeviceError(
      `WebGPU device lost: ${reason}; the tensors on it are gone (files saved earlier are untouched)`,
    );
  }

  /** Throws the recorded fault, if any. */
  throwIfFaulted(): void {
    if (this.fault !== null) throw this.fault;
  }

  /**
   * Refuses a buffer the adapter cannot hold before asking for it: WebGPU would hand back an invalid
   * buffer and report a validation error only later, far from the op that caused it.
   *
   * @param bytes - the bytes the pool would allocate.
   * @param elements - the tensor's element count, for the message.
   * @throws {@link DeviceError} naming the size and the limit.
   */
  checkSize(device: GPUDevice, bytes: number, elements: number): void {
    const { maxBufferSize, maxStorageBufferBindingSize } = device.limits;
    const limit = Math.min(maxBufferSize, maxStorageBufferBindingSize);
    if (bytes > limit) {
      const which = maxBufferSize <= maxStorageBufferBindingSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
      throw new DeviceError(
        `webgpu: out of memory: cannot allocate ${formatBytes(bytes)} for a tensor of ${elements} elements; ` +
          `this adapter's ${which} is ${formatBytes(limit)} (use smaller tensors or the CPU device)`,
      );
    }
  }

  /**
   * `device.createBuffer` that notices an out-of-memory failure. Large buffers are created inside an
   * `out-of-memory` error scope; when the scope reports an error the fault is recorded (WebGPU cannot
   * say so synchronously) and the next use of the device throws a DeviceError naming the size.
   */
  createBuffer(device: GPUDevice, descriptor: GPUBufferDescriptor, elements: number): GPUBuffer {
    if (descriptor.size < OOM_SCOPE_BYTES) return device.createBuffer(descriptor);
    device.pushErrorScope('out-of-memory');
    const buffer = device.createBuffer(descriptor);
    device.popErrorScope().then(
      (error) => {
        if (error === null) return;
        this.fault ??= new DeviceError(
          `webgpu: out of memory: the device could not allocate ${formatBytes(descriptor.size)} for a tensor of ` +
            `${elements} elements (${error.message}); free tensors, use smaller ones or the CPU device`,
        );
      },
      // A device lost before the scope closed is reported by markLost.
      () => {},
    );
    return buffer;
  }

  /**
   * Awaits a device promise (a buffer mapping) and turns its rejection into a DeviceError: when the
   * device is lost mid-read, WebGPU rejects with a bare AbortError.
   */
  async guard<T>(promise: Promise<T>, what: string): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      this.throwIfFaulted();
      throw new DeviceError(`webgpu: ${what} failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
