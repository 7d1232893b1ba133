import type { BackendBuffer } from './backend.ts';
import type { Device } from './device.ts';
import { type DType, type TypedArray, BYTES_PER_ELEMENT } from './dtype.ts';
import { engine, trackTensor, untrackTensor } from './engine.ts';
import { StateError, fmtShape } from './errors.ts';
import { sizeOf } from './shape.ts';

/**
 * A backend buffer shared by a tensor and its views (reshape, detach). Freed when the last tensor
 * using it is disposed. `version` counts in-place writes so the tape can tell if a value it saved
 * for backward was overwritten.
 */
export class Storage {
  refs = 1;
  version = 0;
  /**
   * The `version` at which a kernel that zeroes the whole buffer said so (`markZeroed`), or −1. Every
   * later in-place write advances `version` past it, so the mark never outlives the zeros. It lets
   * backward take a new gradient as `.grad` instead of adding it to zeros an optimizer just wrote.
   */
  zeroedAt = -1;
  constructor(
    readonly device: Device,
    readonly buffer: BackendBuffer,
    readonly size: number,
  ) {}

  /** Records that every element is zero now; call it right after the write that zeroed them. */
  markZeroed(): void {
    this.zeroedAt = this.version;
  }

  /** Whether every element is known to be zero: nothing has written the buffer since `markZeroed`. */
  get knownZero(): boolean {
    return this.zeroedAt === this.version;
  }

  release(): void {
    if (--this.refs === 0) this.device.backend.free(this.buffer);
  }
}

/**
 * An n-dimensional array of float32 or int32 on one device. Values are immutable through the ops
 * (every op returns a new tensor) except the explicit in-place updates ending in `_` that optimizers use.
 * Read data back with `await t.toArray()`; release device memory with `t.dispose()` or `scope()`.
 */
export class Tensor {
  readonly id: number;
  readonly size: number;
  /** Set by autograd ops: whether gradients flow to this tensor. Set it on leaves with `requireGrad()`. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after `backward()`, same shape and device. */
  grad: Tensor | null = null;
  /** A name shown when the tape is printed (e.g. 'W_xh'). */
  name: string | null = null;
  /** Exempt from disposal by `scope()` (see `keep`). */
  kept = false;
  private disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** @internal */ readonly storage: Storage,
  ) {
    this.id = engine.nextId++;
    this.size = sizeOf(shape);
    trackTensor(this);
  }

  get device(): Device {
    return this.storage.device;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal The backend buffer, after checking the tensor is still alive. */
  buffer(op: string): BackendBuffer {
    if (this.disposed) throw new StateError(`${op}: tensor #${this.id} ${fmtShape(this.shape)} was disposed`);
    return this.storage.buffer;
  }

  /** Copies the values to the host as a flat row-major typed array (the only device readback). */
  async toArray(): Promise<TypedArray> {
    const buf = this.buffer('toArray');
    return this.device.backend.read(buf, this.dtype, this.size);
  }

  /** Like `toArray` but nested to the tensor's shape (a scalar gives a number). */
  async toNested(): Promise<NestedArray> {
    const flat = Array.from(await this.toArray());
    return nest(flat, this.shape, 0);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new StateError(`item: tensor has ${this.size} elements ${fmtShape(this.shape)}, expected 1`);
    return (await this.toArray())[0]!;
  }

  /** Releases this tensor's hold on its buffer (the buffer is freed when no view uses it). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    untrackTensor(this);
    this.storage.release();
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** Marks this tensor as a leaf that collects gradients (`requires_grad_()` in PyTorch). */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** @internal A new tensor object over the same storage (reshape, detach). */
  view(shape: readonly number[]): Tensor {
    this.buffer('view');
    this.storage.refs++;
    return new Tensor(shape, this.dtype, this.storage);
  }

  /** Bytes of device memory this tensor's values occupy. */
  get bytes(): number {
    return this.size * BYTES_PER_ELEMENT;
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.device.kind}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

export type NestedArray = number | NestedArray[];

function nest(flat: number[], shape: readonly number[], offset: number): NestedArray {
  if (shape.length === 0) return flat[offset]!;
  const [n, ...rest] = shape;
  const stride = sizeOf(rest);
  const out: NestedArray[] = [];
  for (let i = 0; i < n!; i++) out.push(nest(flat, rest, offset + i * stride));
  return out;
}
