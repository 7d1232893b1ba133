/**
 * The GRU and LSTM time steps on WebGPU: the WGSL half of the cell kernels in recurrent-cells.ts. One
 * thread per (batch row, hidden unit) reads its gate pre-activations from the step's input projection
 * and recurrent product and writes the new state, so a step is the recurrent matmul plus one dispatch
 * instead of a dozen. The activations are written as the engine's unary kernels write them, so a
 * fused step matches the step-by-step ops.
 */
import type { WgslKernel } from '@tinytape/tensor';
import type { CellParams } from './cells-host.ts';

// The same expressions as the WebGPU backend's sigmoid and tanh (backends/webgpu/elementwise.ts).
const ACTIVATIONS = `fn sig(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn th(x: f32) -> f32 { return tanh(clamp(x, -10.0, 10.0)); }`;

/** GRU: buffers xp, hp, bias, h -> out; thread idx is element (idx / hidden, idx % hidden). */
export const gruCellWgsl: WgslKernel<CellParams> = {
  uniforms: { hidden: 'u32' },
  functions: ACTIVATIONS,
  body: `  let j = idx % hidden;
  let row = (idx / hidden) * 3u * hidden;
  let r = sig(xp[row + j] + (hp[row + j] + bias[j]));
  let z = sig(xp[row + hidden + j] + (hp[row + hidden + j] + bias[hidden + j]));
  let n = th(xp[row + 2u * hidden + j] + r * (hp[row + 2u * hidden + j] + bias[2u * hidden + j]));
  out[idx] = n + z * (h[idx] - n);`,
};

/** LSTM: buffers xp, hp, c -> outH, outC; gate blocks i, f, g, o. */
export const lstmCellWgsl: WgslKernel<CellParams> = {
  uniforms: { hidden: 'u32' },
  functions: ACTIVATIONS,
  body: `  let j = idx % hidden;
  let row = (idx / hidden) * 4u * hidden;
  let i = sig(xp[row + j] + hp[row + j]);
  let f = sig(xp[row + hidden + j] + hp[row + hidden + j]);
  let g = th(xp[row + 2u * hidden + j] + hp[row + 2u * hidden + j]);
  let o = sig(xp[row + 3u * hidden + j] + hp[row + 3u * hidden + j]);
  let cNext = f * c[idx] + i * g;
  outC[idx] = cNext;
  outH[idx] = o * th(cNext);`,
};
