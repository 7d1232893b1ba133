/**
 * Copies device buffers back to the host through MAP_READ staging buffers, which are pooled by size
 * class: a training loop reads one loss per step, and creating a mappable buffer each time would cost
 * more than the copy.
 */
import { type GpuBuf, USAGE, sizeClass } from './buffer-pool.ts';
import type { GpuFaults } from './faults.ts';

const MAP_READ_MODE = 0x1;

/** The staging buffers of one device. */
export class Readback {
  private readonly staging = new Map<number, GPUBuffer[]>();

  constructor(
    private readonly device: GPUDevice,
    private readonly faults: GpuFaults,
  ) {}

  /**
   * Copies the first `bytes` of `buf` to the host. `encode` records the copy into the open command
   * encoder (after ending any compute pass) and `submit` sends it, with every command before it.
   */
  async read(
    buf: GpuBuf,
    bytes: number,
    encode: (copy: (encoder: GPUCommandEncoder) => void) => void,
    submit: () => void,
  ): Promise<ArrayBuffer> {
    const cls = sizeClass(bytes);
    const staging = this.staging.get(cls)?.pop() ?? this.device.createBuffer({ size: cls, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    encode((encoder) => encoder.copyBufferToBuffer(buf.buffer, 0, staging, 0, bytes));
    submit();
    await this.faults.guard(staging.mapAsync(MAP_READ_MODE, 0, bytes), `reading back ${bytes} bytes`);
    const out = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    const list = this.staging.get(cls);
    if (list === undefined) this.staging.set(cls, [staging]);
    else list.push(staging);
    return out;
  }

  /** Forgets every staging buffer (the device is being destroyed). */
  clear(): void {
    this.staging.clear();
  }
}
