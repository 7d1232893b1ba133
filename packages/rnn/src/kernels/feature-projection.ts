/*
 * The input projection of a layer that reads features (a stacked layer's input), x·W_ihᵀ + b_ih + b_hh
 * for all steps at once, as one tape entry: the matmul, then one kernel adding both biases in place;
 * backward is the two products and one kernel that sums the gradient's columns into b_ih's and b_hh's
 * gradients together. Composed of engine ops it would be five dispatches forward and backward more
 * (the bias sum, its broadcast add, the column sum and a copy for the second bias); the values are the
 * same up to float32 rounding of the bias sum's order.
 */
import { noGrad, registerGradient } from '@tinytape/autograd';
import { ShapeError, type Tensor, defineKernel, fmtShape, matmul, recordOp, runKernel } from '@tinytape/tensor';

type BiasSizes = { rows: number; cols: number };

/** y[r, k] += bIh[k] + bHh[k], in place (bHh absent: a zero-length buffer and `both` 0). */
const addBiases = defineKernel<BiasSizes & { both: number }>({
  name: 'addProjectionBiases', inputs: ['bIh', 'bHh'], updates: ['y'], outputs: [],
  reference: ({ inputs: [bIh, bHh], updates: [y], params: { rows, cols, both } }) => {
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < cols; k++) y![r * cols + k] = y![r * cols + k]! + (both === 1 ? Math.fround(bIh![k]! + bHh![k]!) : bIh![k]!);
    }
  },
  webgpu: {
    uniforms: { cols: 'u32', both: 'u32' },
    threads: ({ rows, cols }) => rows * cols,
    body: `  let k = idx % cols;
  var bias = bIh[k];
  if (both == 1u) { bias = bIh[k] + bHh[k]; }
  y[idx] = y[idx] + bias;`,
  },
});

/** The column sums of g [rows, cols], written to both outputs (b_ih's and b_hh's gradients). */
const biasGradients = defineKernel<BiasSizes>({
  name: 'projectionBiasGradients', inputs: ['g'], outputs: ['dIh', 'dHh'], writesAll: true,
  reference: ({ inputs: [g], outputs: [dIh, dHh], params: { rows, cols } }) => {
    for (let k = 0; k < cols; k++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s = Math.fround(s + g![r * cols + k]!);
      dIh![k] = s;
      dHh![k] = s;
    }
  },
  webgpu: {
    uniforms: { rows: 'u32', cols: 'u32' },
    threads: ({ cols }) => cols,
    body: `  var s = 0.0;
  for (var r = 0u; r < rows; r++) { s += g[r * cols + idx]; }
  dIh[idx] = s;
  dHh[idx] = s;`,
  },
});

/**
 * x [rows, in] · W_ihᵀ + b_ih (+ b_hh when given), [rows, gates·hidden]; differentiable in all four.
 */
export function projectFeatures(x: Tensor, wIh: Tensor, bIh: Tensor, bHh?: Tensor): Tensor {
  const [rows, inSize] = x.shape as [number, number];
  const cols = wIh.shape[0]!;
  if (x.rank !== 2 || wIh.rank !== 2 || wIh.shape[1] !== inSize || bIh.shape[0] !== cols || (bHh !== undefined && bHh.shape[0] !== cols)) {
    throw new ShapeError(
      `projectFeatures: expected x [rows, in], W_ih [out, in] and biases [out], got ${[x, wIh, bIh, ...(bHh ? [bHh] : [])].map((t) => fmtShape(t.shape)).join(', ')}`,
    );
  }
  const y = noGrad(() => {
    const out = matmul(x, wIh, { transB: true });
    runKernel(addBiases, [bIh, bHh ?? bIh], [], { rows, cols, both: bHh === undefined ? 0 : 1 }, [out]);
    return out;
  });
  return recordOp('projectFeatures', bHh === undefined ? [x, wIh, bIh] : [x, wIh, bIh, bHh], y, { rows, cols });
}

registerGradient('projectFeatures', (g, { inputs: [x, wIh, , bHh], attrs }) => {
  const { rows, cols } = attrs as unknown as BiasSizes;
  const dX = x!.requiresGrad ? matmul(g, wIh!) : null;
  const dW = matmul(g, x!, { transA: true });
  const [dIh, dHh] = runKernel(biasGradients, [g], [[cols], [cols]], { rows, cols });
  return bHh === undefined ? [dX, dW, dIh!] : [dX, dW, dIh!, dHh!];
});
