import { recordOp } from '../engine.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { normAxis } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { swapaxes } from './shape-ops.ts';
import { allocTensor, commonDevice, expectDtype, expectTensor } from './util.ts';
import { scope } from '../scope.ts';

/** exp(x) / sum(exp(x)) along `axis` (default the last), computed stably. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong('softmax', x, axis, false);
}

/** log(softmax(x)) along `axis` (default the last), computed stably with log-sum-exp. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong('logSoftmax', x, axis, true);
}

function softmaxAlong(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number, log: boolean): Tensor {
  expectTensor(op, x);
  expectDtype(op, x, 'float32');
  const a = normAxis(op, axis, x.rank, x.shape);
  if (a !== x.rank - 1) {
    // The kernel works on rows; move the axis last and back again.
    return scope(() => swapaxes(softmaxAlong(op, swapaxes(x, a, -1), -1, log), a, -1));
  }
  const cols = x.shape[a]!;
  const out = allocTensor(x.device, x.shape, 'float32');
  if (x.size > 0) x.device.backend.softmax(x.buffer(op), out.buffer(op), x.size / cols, cols, log);
  return recordOp(op, [x], out);
}

/**
 * Mean cross-entropy between `logits` [N, C] and integer class `targets` [N] (`F.cross_entropy`),
 * fused and numerically stable: -mean(logits[i, t_i] - logsumexp(logits[i, :])). Returns a scalar.
 */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  expectTensor('crossEntropy', logits, 'logits');
  expectTensor('crossEntropy', targets, 'targets');
  const device = commonDevice('crossEntropy', [logits, targets]);
  expectDtype('crossEntropy', logits, 'float32', 'logits');
  expectDtype('crossEntropy', targets, 'int32', 'targets');
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new ShapeError(
      `crossEntropy: expected logits [N,C] and targets [N], got ${fmtShape(logits.shape)} and ${fmtShape(targets.shape)}`,
    );
  }
  const [rows, cols] = logits.shape as [number, number];
  if (rows === 0 || cols === 0) throw new ShapeError(`crossEntropy: empty logits ${fmtShape(logits.shape)}`);
  const out = allocTensor(device, [], 'float32');
  device.backend.crossEntropy(logits.buffer('crossEntropy'), targets.buffer('crossEntropy'), out.buffer('crossEntropy'), rows, cols);
  return recordOp('crossEntropy', [logits, targets], out);
}

/** d(mean cross-entropy)/d(logits) scaled by the upstream scalar gradient `g` (a device tensor). */
export function crossEntropyGrad(logits: Tensor, targets: Tensor, g: Tensor): Tensor {
  const [rows, cols] = logits.shape as [number, number];
  const out = allocTensor(logits.device, logits.shape, 'float32');
  logits.device.backend.crossEntropyBackward(
    logits.buffer('crossEntropy'),
    targets.buffer('crossEntropy'),
    g.buffer('crossEntropy'),
    out.buffer('crossEntropy'),
    rows,
    cols,
  );
  return out;
}
