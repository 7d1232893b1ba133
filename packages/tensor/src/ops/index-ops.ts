import { recordOp } from '../engine.ts';
import { ShapeError, ValueError, fmtShape } from '../errors.ts';
import { sizeOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, commonDevice, expectDtype, expectTensor } from './util.ts';

/**
 * Row selection (`index_select` along axis 0, an embedding lookup): out[...idx, :] = table[indices[...idx], :].
 * The result has shape [...indices.shape, ...table.shape.slice(1)]. Indices must be in range.
 */
export function gather(table: Tensor, indices: Tensor): Tensor {
  expectTensor('gather', table, 'table');
  expectTensor('gather', indices, 'indices');
  const device = commonDevice('gather', [table, indices]);
  expectDtype('gather', indices, 'int32', 'indices');
  if (table.rank < 1) throw new ShapeError(`gather: table must have at least 1 dimension, got ${fmtShape(table.shape)}`);
  const rowShape = table.shape.slice(1);
  const out = allocTensor(device, [...indices.shape, ...rowShape], table.dtype);
  device.backend.gather(table.buffer('gather'), indices.buffer('gather'), out.buffer('gather'), {
    numIndices: indices.size,
    tableRows: table.shape[0]!,
    rowSize: sizeOf(rowShape),
  });
  return recordOp('gather', [table, indices], out);
}

/** The adjoint of `gather`: rows of `src` summed into a zero table of `tableShape` at `indices`. */
export function scatterAddRows(src: Tensor, indices: Tensor, tableShape: readonly number[]): Tensor {
  const out = allocTensor(src.device, tableShape, 'float32');
  src.device.backend.scatterAdd(src.buffer('scatterAdd'), indices.buffer('scatterAdd'), out.buffer('scatterAdd'), {
    numIndices: indices.size,
    tableRows: tableShape[0]!,
    rowSize: sizeOf(tableShape.slice(1)),
  });
  return out;
}

/** One-hot float32 encoding (`F.one_hot`): shape [...indices.shape, depth]; an index outside [0, depth) gives zeros. */
export function oneHot(indices: Tensor, depth: number): Tensor {
  expectTensor('oneHot', indices, 'indices');
  expectDtype('oneHot', indices, 'int32', 'indices');
  if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`oneHot: depth must be a positive integer, got ${depth}`);
  const out = allocTensor(indices.device, [...indices.shape, depth], 'float32');
  indices.device.backend.oneHot(indices.buffer('oneHot'), out.buffer('oneHot'), indices.size, depth);
  return out;
}
