import { recordOp } from '../engine.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastShapes, sizeOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, commonDevice, expectDtype, expectTensor } from './util.ts';

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
  expectTensor('matmul', a, 'first operand');
  expectTensor('matmul', b, 'second operand');
  const device = commonDevice('matmul', [a, b]);
  expectDtype('matmul', a, 'float32', 'first operand');
  expectDtype('matmul', b, 'float32', 'second operand');
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: operands need at least 2 dimensions, got ${fmtShape(a.shape)} x ${fmtShape(b.shape)}`);
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
    throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)}${ta} x ${fmtShape(b.shape)}${tb}`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes('matmul', aBatch, bBatch);
  const batch = sizeOf(batchShape);
  // The kernel broadcasts a whole operand over the batch (stride 0), not individual batch axes.
  const aBroadcast = sizeOf(aBatch) === 1;
  const bBroadcast = sizeOf(bBatch) === 1;
  if ((!aBroadcast && sizeOf(aBatch) !== batch) || (!bBroadcast && sizeOf(bBatch) !== batch)) {
    throw new ShapeError(
      `matmul: batch dimensions ${fmtShape(aBatch)} and ${fmtShape(bBatch)} must be equal or one of them absent/1`,
    );
  }
  const out = allocTensor(device, [...batchShape, m, n], 'float32');
  device.backend.matmul(a.buffer('matmul'), b.buffer('matmul'), out.buffer('matmul'), {
    batch,
    m,
    k,
    n,
    transA,
    transB,
    aBatchStride: aBroadcast ? 0 : m * k,
    bBatchStride: bBroadcast ? 0 : k * n,
  });
  return recordOp('matmul', [a, b], out, { transA, transB });
}
