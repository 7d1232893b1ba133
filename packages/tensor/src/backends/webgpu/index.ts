/**
 * The WebGPU backend: every kernel of the `Backend` table as a hand-written WGSL compute shader.
 *
 * Speed comes from the machinery in context.ts (pooled buffers, batched submits, one uniform arena per
 * batch, cached pipelines) and from never reading back except in `read()`. Each kernel family lives in
 * its own file with its shader source: elementwise.ts, strided.ts (binary, copy), matmul.ts, reduce.ts,
 * indexing.ts (gather, scatterAdd, oneHot), softmax.ts (softmax, cross-entropy), custom.ts (kernels
 * defined outside the engine).
 *
 * In a browser the adapter comes from `navigator.gpu`; in Node from the `webgpu` package (Dawn).
 */
import type {
  AxisParams,
  Backend,
  BackendBuffer,
  BackendMemory,
  BinaryOp,
  BroadcastLayout,
  CopyParams,
  GatherParams,
  MatmulParams,
  ReduceOp,
  ScalarOp,
  UnaryOp,
} from '../../backend.ts';
import type { CustomKernel, KernelParams, WgslTarget } from '../../custom-kernel.ts';
import type { DType, TypedArray } from '../../dtype.ts';
import { type ContextOptions, GpuBuf, GpuContext, type Stats } from './context.ts';
import { runKernel } from './custom.ts';
import * as ew from './elementwise.ts';
import * as idx from './indexing.ts';
import * as mm from './matmul.ts';
import * as red from './reduce.ts';
import * as sm from './softmax.ts';
import * as st from './strided.ts';
import type { GpuTime, TimingStats } from './timing.ts';
import { envVar } from '../../node-runtime.ts';
import { platformGpu } from '#platform/gpu';

export type { Stats } from './context.ts';
export type { GpuTime, TimingStats } from './timing.ts';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface WebGPUBackendOptions extends ContextOptions {
  powerPreference?: GPUPowerPreference;
  /** Matmul kernel: 'auto' (default) picks 'registers' on software adapters and 'tiled' on GPUs. */
  matmul?: 'auto' | mm.MatmulKernel;
  /**
   * Time every compute pass on the GPU with timestamp queries, read with `WebGPUBackend.gpuTime()`.
   * Off by default (it adds two timestamp writes per pass and a resolve every 256 passes); when not
   * given, `TINYTAPE_GPU_TIMING=1` in the environment turns it on. Ignored, with `timing` false on the
   * backend, when the adapter lacks the 'timestamp-query' feature.
   */
  timing?: boolean;
}

/** Whether the adapter is a CPU emulation (lavapipe/llvmpipe, SwiftShader, WARP). */
function isSoftware(info: AdapterInfo, fallback: boolean): boolean {
  const text = `${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return fallback || /llvmpipe|lavapipe|swiftshader|software|warp/.test(text);
}

/** `navigator.gpu` where the runtime has it (browsers, Deno), else the platform's (Dawn in Node). */
async function getGpu(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu !== undefined) return nav.gpu;
  return platformGpu();
}

/** A WebGPU backend on the first adapter found, or null when there is none. */
export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend | null> {
  const gpu = await getGpu();
  if (gpu === null) return null;
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  if (adapter === null) return null;
  const lim = adapter.limits;
  // The feature is requested only when asked for: a device with it may be set up differently.
  const timing = (opts.timing ?? envVar('TINYTAPE_GPU_TIMING') === '1') && adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    ...(timing ? { requiredFeatures: ['timestamp-query' as GPUFeatureName] } : {}),
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      // Multi-buffer kernels (a whole recurrence, an optimizer over several tensors) bind more than the
      // default 8 storage buffers where the adapter allows.
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
    },
  });
  const info = adapter.info;
  const adapterInfo: AdapterInfo = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
  const fallback = (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  const kernel = opts.matmul ?? 'auto';
  const backend = new WebGPUBackend(device, adapterInfo, { ...opts, timing });
  const software = isSoftware(adapterInfo, fallback);
  backend.matmulKernel = kernel === 'auto' ? (software ? 'registers' : 'tiled') : kernel;
  backend.target = { software };
  return backend;
}

const buf = (b: BackendBuffer): GpuBuf => b as GpuBuf;

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu' as const;
  /** Resolves with the reason when the device is lost (including after `destroy()`). */
  readonly lost: Promise<string>;
  /** Called once if the device is lost while in use (not after `destroy()`). */
  onLost: ((reason: string) => void) | null = null;
  /** Validation and out-of-memory errors the device reported (normally empty). */
  readonly errors: string[] = [];
  /** Which matmul kernel runs (see matmul.ts); chosen from the adapter, may be changed at any time. */
  matmulKernel: mm.MatmulKernel = 'tiled';
  /** What custom kernels may tune themselves to; set from the adapter. */
  target: WgslTarget = { software: false };
  private readonly ctx: GpuContext;

  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: AdapterInfo,
    opts: ContextOptions = {},
  ) {
    this.ctx = new GpuContext(device, opts);
    this.lost = device.lost.then((info) => {
      const reason = `${info.reason ?? 'unknown'}: ${info.message}`;
      if (!this.ctx.destroyed) {
        this.ctx.faults.markLost(reason);
        this.ctx.destroyed = true;
        this.onLost?.(reason);
      }
      return reason;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      const msg = ev.error.message;
      this.errors.push(msg);
      console.error(`[tinytape webgpu] ${msg}`);
    };
  }

  /** Cumulative counters: kernels dispatched, command buffers submitted, readbacks, pipelines compiled. */
  stats(): Stats {
    return { ...this.ctx.counters };
  }

  /** Whether compute passes are timed: asked for (`timing` option) and supported by the adapter. */
  get timing(): boolean {
    return this.ctx.timing;
  }

  /** The timing machinery's own readbacks and submits (kept out of `stats()`), or null when off. */
  timingStats(): TimingStats | null {
    return this.ctx.timingCounters;
  }

  /**
   * GPU time of the compute passes since the last call (or since creation), then reset: submits the
   * queued work and waits for it. Rejects with a DeviceError when timing is off. Every kernel runs
   * inside a pass, so `ms` is kernel time plus the little a pass costs around them.
   */
  gpuTime(): Promise<GpuTime> {
    return this.ctx.gpuTime();
  }

  // ---------------------------------------------------------------- memory

  alloc(size: number, _dtype: DType, overwritten = false): BackendBuffer {
    return this.ctx.alloc(size, !overwritten);
  }

  upload(data: TypedArray): BackendBuffer {
    return this.ctx.upload(data);
  }

  async read(b: BackendBuffer, dtype: DType, size: number): Promise<TypedArray> {
    const bytes = await this.ctx.read(buf(b), size);
    return dtype === 'float32' ? new Float32Array(bytes) : new Int32Array(bytes);
  }

  free(b: BackendBuffer): void {
    this.ctx.free(buf(b));
  }

  flush(): void {
    this.ctx.submit();
  }

  memory(): BackendMemory {
    const c = this.ctx;
    return { liveBuffers: c.liveBuffers, liveBytes: c.liveBytes, pooledBuffers: c.pooledBuffers, pooledBytes: c.pooledBytes };
  }

  destroy(): void {
    this.ctx.destroy();
  }

  // ---------------------------------------------------------------- kernels

  fill(out: BackendBuffer, size: number, value: number, dtype: DType): void {
    ew.fill(this.ctx, buf(out), size, value, dtype);
  }

  unary(op: UnaryOp, x: BackendBuffer, out: BackendBuffer, size: number): void {
    ew.unary(this.ctx, op, buf(x), buf(out), size);
  }

  scalar(op: ScalarOp, x: BackendBuffer, s: number, out: BackendBuffer, size: number): void {
    ew.scalar(this.ctx, op, buf(x), s, buf(out), size);
  }

  binary(op: BinaryOp, a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, layout: BroadcastLayout): void {
    st.binary(this.ctx, op, buf(a), buf(b), buf(out), layout);
  }

  binaryInPlace(op: BinaryOp, a: BackendBuffer, b: BackendBuffer, layout: BroadcastLayout): void {
    st.binaryInPlace(this.ctx, op, buf(a), buf(b), layout);
  }

  axpy(y: BackendBuffer, x: BackendBuffer, alpha: number, size: number): void {
    ew.axpy(this.ctx, buf(y), buf(x), alpha, size);
  }

  matmul(a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, p: MatmulParams): void {
    if (p.accumulate) {
      // The WGSL kernels overwrite their output; accumulating is a product into a pooled temporary
      // and one add, queued like any other work.
      const size = p.batch * p.m * p.n;
      const product = this.alloc(size, 'float32');
      mm.matmul(this.ctx, buf(a), buf(b), buf(product), { ...p, accumulate: false }, this.matmulKernel);
      this.axpy(out, product, 1, size);
      this.free(product);
      return;
    }
    mm.matmul(this.ctx, buf(a), buf(b), buf(out), p, this.matmulKernel);
  }

  reduce(op: ReduceOp, x: BackendBuffer, out: BackendBuffer, p: AxisParams): void {
    red.reduce(this.ctx, op, buf(x), buf(out), p);
  }

  argmax(x: BackendBuffer, out: BackendBuffer, p: AxisParams): void {
    red.argmax(this.ctx, buf(x), buf(out), p);
  }

  copy(src: BackendBuffer, dst: BackendBuffer, p: CopyParams): void {
    st.copy(this.ctx, buf(src), buf(dst), p);
  }

  runKernel<P extends KernelParams>(kernel: CustomKernel<P>, inputs: BackendBuffer[], outputs: BackendBuffer[], sizes: number[], params: P): void {
    runKernel(this.ctx, this.target, kernel, inputs.map(buf), outputs.map(buf), sizes, params);
  }

  gather(table: BackendBuffer, indices: BackendBuffer, out: BackendBuffer, p: GatherParams): void {
    idx.gather(this.ctx, buf(table), buf(indices), buf(out), p);
  }

  scatterAdd(src: BackendBuffer, indices: BackendBuffer, out: BackendBuffer, p: GatherParams): void {
    idx.scatterAdd(this.ctx, buf(src), buf(indices), buf(out), p);
  }

  oneHot(indices: BackendBuffer, out: BackendBuffer, numIndices: number, depth: number): void {
    idx.oneHot(this.ctx, buf(indices), buf(out), numIndices, depth);
  }

  softmax(x: BackendBuffer, out: BackendBuffer, rows: number, cols: number, log: boolean): void {
    sm.softmax(this.ctx, buf(x), buf(out), rows, cols, log);
  }

  crossEntropy(logits: BackendBuffer, targets: BackendBuffer, out: BackendBuffer, rows: number, cols: number): void {
    sm.crossEntropy(this.ctx, buf(logits), buf(targets), buf(out), rows, cols);
  }

  crossEntropyBackward(
    logits: BackendBuffer,
    targets: BackendBuffer,
    gradOut: BackendBuffer,
    out: BackendBuffer,
    rows: number,
    cols: number,
  ): void {
    sm.crossEntropyBackward(this.ctx, buf(logits), buf(targets), buf(gradOut), buf(out), rows, cols);
  }

  cast(x: BackendBuffer, out: BackendBuffer, size: number, from: DType, to: DType): void {
    if (from === to) {
      st.copy(this.ctx, buf(x), buf(out), { shape: [size], srcStrides: [1], dstStrides: [1], srcOffset: 0, dstOffset: 0, size });
    } else {
      ew.cast(this.ctx, buf(x), buf(out), size, from, to);
    }
  }
}
