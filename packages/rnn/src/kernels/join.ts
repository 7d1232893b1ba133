/*
 * Joining the parts a stacked or bidirectional recurrent layer produces, one dispatch each way: the
 * final states of every layer and direction stacked into PyTorch's [layers·directions, batch, hidden]
 * (`stackRows`), and a bidirectional layer's two outputs side by side (`joinFeatures`). The engine's
 * `stack` and `concat` copy one part per dispatch, and their gradients slice one part per dispatch;
 * these kernels move all parts at once, and their gradient rules split the gradient in one dispatch.
 * A kernel binds at most 8 buffers, so `stackRows` takes up to 7 parts (the engine's `stack` does more).
 */
import { registerGradient } from '@tinytape/autograd';
import { type CustomKernel, type Tensor, ShapeError, defineKernel, fmtShape, runKernel, stack } from '@tinytape/tensor';

type Sizes = { size: number; parts: number };

/** Most parts one kernel moves: 7 inputs (or outputs) and the other side's buffer fill 8 bindings. */
const MAX_PARTS = 7;

const names = (n: number) => Array.from({ length: n }, (_, i) => `part${i}`);

/** WGSL choosing part k of n by the thread's block (idx / size), one branch per part. */
function perPart(n: number, statement: (k: number) => string): string {
  return `  let k = idx / size;
  let at = idx % size;
${Array.from({ length: n }, (_, k) => `  ${k === 0 ? 'if' : 'else if'} (k == ${k}u) { ${statement(k)} }`).join('\n')}`;
}

const stackKernels = new Map<number, CustomKernel<Sizes>>();
const unstackKernels = new Map<number, CustomKernel<Sizes>>();

/** The kernel stacking `n` equally sized parts (defined on first use). */
function stackKernel(n: number): CustomKernel<Sizes> {
  let kernel = stackKernels.get(n);
  if (kernel === undefined) {
    kernel = defineKernel<Sizes>({
      name: `stackRows${n}`, inputs: names(n), outputs: ['out'], writesAll: true, differentiable: true,
      reference: ({ inputs, outputs: [out], params: { size } }) => inputs.forEach((part, k) => out!.set(part.subarray(0, size), k * size)),
      webgpu: { uniforms: { size: 'u32' }, body: perPart(n, (k) => `out[idx] = part${k}[at];`) },
    });
    stackKernels.set(n, kernel);
  }
  return kernel;
}

/** The kernel splitting a stacked gradient back into `n` parts (defined on first use). */
function unstackKernel(n: number): CustomKernel<Sizes> {
  let kernel = unstackKernels.get(n);
  if (kernel === undefined) {
    kernel = defineKernel<Sizes>({
      name: `unstackRows${n}`, inputs: ['whole'], outputs: names(n), writesAll: true,
      reference: ({ inputs: [whole], outputs, params: { size } }) => outputs.forEach((part, k) => part.set(whole!.subarray(k * size, (k + 1) * size))),
      webgpu: {
        uniforms: { size: 'u32' },
        threads: ({ size, parts }) => size * parts,
        body: perPart(n, (k) => `part${k}[at] = whole[idx];`),
      },
    });
    unstackKernels.set(n, kernel);
  }
  return kernel;
}

/**
 * `stack(parts)` along a new first axis, in one dispatch for up to 7 parts (the engine's `stack`
 * beyond). All parts must have the same shape.
 */
export function stackRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0];
  if (first === undefined) throw new ShapeError('stackRows: no parts to stack');
  if (parts.some((p) => p.shape.length !== first.shape.length || p.shape.some((d, i) => d !== first.shape[i]))) {
    throw new ShapeError(`stackRows: all parts need the same shape, got ${parts.map((p) => fmtShape(p.shape)).join(', ')}`);
  }
  if (parts.length > MAX_PARTS) return stack(parts);
  return runKernel(stackKernel(parts.length), parts, [[parts.length, ...first.shape]], { size: first.size, parts: parts.length })[0]!;
}

for (let n = 1; n <= MAX_PARTS; n++) {
  registerGradient(`stackRows${n}`, (g, { inputs }) => {
    const size = inputs[0]!.size;
    return runKernel(unstackKernel(n), [g], inputs.map((t) => t.shape), { size, parts: n });
  });
}

type JoinSizes = { rows: number; left: number; right: number };

const joinKernel = defineKernel<JoinSizes>({
  name: 'joinFeatures', inputs: ['a', 'b'], outputs: ['out'], writesAll: true, differentiable: true,
  reference: ({ inputs: [a, b], outputs: [out], params: { rows, left, right } }) => {
    for (let r = 0; r < rows; r++) {
      out!.set(a!.subarray(r * left, (r + 1) * left), r * (left + right));
      out!.set(b!.subarray(r * right, (r + 1) * right), r * (left + right) + left);
    }
  },
  webgpu: {
    uniforms: { left: 'u32', right: 'u32' },
    body: `  let width = left + right;
  let r = idx / width;
  let c = idx % width;
  if (c < left) { out[idx] = a[r * left + c]; } else { out[idx] = b[r * right + c - left]; }`,
  },
});

const splitKernel = defineKernel<JoinSizes>({
  name: 'splitFeatures', inputs: ['whole'], outputs: ['a', 'b'], writesAll: true,
  reference: ({ inputs: [whole], outputs: [a, b], params: { rows, left, right } }) => {
    for (let r = 0; r < rows; r++) {
      a!.set(whole!.subarray(r * (left + right), r * (left + right) + left), r * left);
      b!.set(whole!.subarray(r * (left + right) + left, (r + 1) * (left + right)), r * right);
    }
  },
  webgpu: {
    uniforms: { left: 'u32', right: 'u32' },
    threads: ({ rows, left, right }) => rows * (left + right),
    body: `  let width = left + right;
  let r = idx / width;
  let c = idx % width;
  if (c < left) { a[r * left + c] = whole[idx]; } else { b[r * right + c - left] = whole[idx]; }`,
  },
});

/** `concat([a, b], -1)` in one dispatch: a and b agree in every axis but the last. */
export function joinFeatures(a: Tensor, b: Tensor): Tensor {
  const lead = a.shape.slice(0, -1);
  if (a.rank === 0 || b.rank !== a.rank || b.shape.slice(0, -1).some((d, i) => d !== lead[i])) {
    throw new ShapeError(`joinFeatures: shapes must agree but in the last axis, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const left = a.shape[a.rank - 1]!;
  const right = b.shape[b.rank - 1]!;
  const rows = lead.reduce((p, q) => p * q, 1);
  return runKernel(joinKernel, [a, b], [[...lead, left + right]], { rows, left, right })[0]!;
}

registerGradient('joinFeatures', (g, { inputs: [a, b], attrs }) => {
  const { rows, left, right } = attrs as unknown as JoinSizes;
  return runKernel(splitKernel, [g], [a!.shape, b!.shape], { rows, left, right });
});
