import type { MatmulParams } from '../backend.ts';
import type { Device } from '../device.ts';
import { recordOp } from '../engine.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastShapes, sameShape, sizeOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, checkWritable, commonDevice, expectDtype, expectTensor } from './util.ts';

export interface MatmulOptions {
  /** Use aᵀ (the last two axes swapped) without copying it. */
  transA?: boolean;
  /** Use bᵀ without copying it. */
  transB?: boolean;
}

/**
 * Matrix product over the last two axes, batched over the leading ones with broadcasting
 * (`torch.matmul` for rank >= 2). `transA`/`transB` read an operand transposed in place, which is how
 * the backward pass multiplies by Wᵀ without materialising it.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { device, shape, params } = planMatmul('matmul', a, b, opts);
  const out = allocTensor(device, shape, 'float32', true);
  device.backend.matmul(a.buffer('matmul'), b.buffer('matmul'), out.buffer('matmul'), params);
  return recordOp('matmul', [a, b], out, { transA: params.transA, transB: params.transB });
}

/**
 * out += op(a)·op(b) in place, where `out` has exactly the product's shape: what gradient accumulation
 * does for a weight used at every time step, without a temporary product and a separate add. Like the
 * other in-place ops it is not recorded and refuses a tensor that requires grad while recording.
 */
export function matmulAccumulate_(out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { device, shape, params } = planMatmul('matmulAccumulate_', a, b, opts);
  checkWritable('matmulAccumulate_', out);
  commonDevice('matmulAccumulate_', [out, a]);
  if (!sameShape(out.shape, shape)) {
    throw new ShapeError(`matmulAccumulate_: the product is ${fmtShape(shape)} but out is ${fmtShape(out.shape)}`);
  }
  device.backend.matmul(a.buffer('matmulAccumulate_'), b.buffer('matmulAccumulate_'), out.buffer('matmulAccumulate_'), {
    ...params,
    accumulate: true,
  });
  return out;
}

/** Checks a product's operands and works out its shape and kernel parameters. */
function planMatmul(op: string, a: Tensor, b: Tensor, opts: MatmulOptions): { device: Device; shape: number[]; params: MatmulParams } {
  expectTensor(op, a, 'first operand');
  expectTensor(op, b, 'second operand');
  const device = commonDevice(op, [a, b]);
  expectDtype(op, a, 'float32', 'first operand');
  expectDtype(op, b, 'float32', 'second operand');
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`${op}: operands need at least 2 dimensions, got ${fmtShape(a.shape)} x ${fmtShape(b.shape)}`);
  }
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  if (k !== k2) {
    const ta = transA ? 'ᵀ' : '';
    const tb = transB ? 'ᵀ' : '';
    throw new ShapeError(`${op}: inner dimensions differ: ${fmtShape(a.shape)}${ta} x ${fmtShape(b.shape)}${tb}`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes(op, aBatch, bBatch);
  const batch = sizeOf(batchShape);
  // The kernel broadcasts a whole operand over the batch (stride 0), not individual batch axes.
  const aBroadcast = sizeOf(aBatch) === 1;
  const bBroadcast = sizeOf(bBatch) === 1;
  if ((!aBroadcast && sizeOf(aBatch) !== batch) || (!bBroadcast && sizeOf(bBatch) !== batch)) {
    throw new ShapeError(
      `${op}: batch dimensions ${fmtShape(aBatch)} and ${fmtShape(bBatch)} must be equal or one of them absent/1`,
    );
  }
  const params: MatmulParams = {
    batch,
    m,
    k,
    n,
    transA,
    transB,
    aBatchStride: aBroadcast ? 0 : m * k,
    bBatchStride: bBroadcast ? 0 : k * n,
  };
  return { device, shape: [...batchShape, m, n], params };
}
