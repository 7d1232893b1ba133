/**
 * GRU and LSTM time steps, one thread per (batch row, hidden unit): each reads its gate pre-activations
 * from the step's input projection and recurrent product and writes the new state, so a step is the
 * recurrent matmul plus one dispatch instead of a dozen. The activations are written as the unary
 * kernels write them (elementwise.ts), so a fused step matches the step-by-step ops.
 *
 * Parameter words: 0 batch·hidden, 1 hidden.
 */
import { type GpuBuf, type GpuContext, MAIN_1D, grid1d, prelude } from './context.ts';

// The same expressions as UNARY in elementwise.ts.
const ACTIVATIONS = `fn sig(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn th(x: f32) -> f32 { return tanh(clamp(x, -10.0, 10.0)); }`;

export function gruCell(ctx: GpuContext, xp: GpuBuf, hp: GpuBuf, bias: GpuBuf, h: GpuBuf, out: GpuBuf, batch: number, hidden: number): void {
  const size = batch * hidden;
  ctx.run({
    key: 'gruCell',
    source: () => `${prelude([['xp', 'r', 'f32'], ['hp', 'r', 'f32'], ['bias', 'r', 'f32'], ['h', 'r', 'f32'], ['out', 'w', 'f32']])}
${ACTIVATIONS}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  let H = p(1);
  let j = idx % H;
  let row = (idx / H) * 3u * H;
  let r = sig(xp[row + j] + (hp[row + j] + bias[j]));
  let z = sig(xp[row + H + j] + (hp[row + H + j] + bias[H + j]));
  let n = th(xp[row + 2u * H + j] + r * (hp[row + 2u * H + j] + bias[2u * H + j]));
  out[idx] = n + z * (h[idx] - n);
}`,
    params: [size, hidden],
    bindings: [
      { buf: xp, access: 'r' }, { buf: hp, access: 'r' }, { buf: bias, access: 'r' }, { buf: h, access: 'r' },
      { buf: out, access: 'w', covers: size },
    ],
    groups: grid1d(size),
  });
}

export function lstmCell(ctx: GpuContext, xp: GpuBuf, hp: GpuBuf, c: GpuBuf, outH: GpuBuf, outC: GpuBuf, batch: number, hidden: number): void {
  const size = batch * hidden;
  ctx.run({
    key: 'lstmCell',
    source: () => `${prelude([['xp', 'r', 'f32'], ['hp', 'r', 'f32'], ['c', 'r', 'f32'], ['outH', 'w', 'f32'], ['outC', 'w', 'f32']])}
${ACTIVATIONS}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  let H = p(1);
  let j = idx % H;
  let row = (idx / H) * 4u * H;
  let i = sig(xp[row + j] + hp[row + j]);
  let f = sig(xp[row + H + j] + hp[row + H + j]);
  let g = th(xp[row + 2u * H + j] + hp[row + 2u * H + j]);
  let o = sig(xp[row + 3u * H + j] + hp[row + 3u * H + j]);
  let cNext = f * c[idx] + i * g;
  outC[idx] = cNext;
  outH[idx] = o * th(cNext);
}`,
    params: [size, hidden],
    bindings: [
      { buf: xp, access: 'r' }, { buf: hp, access: 'r' }, { buf: c, access: 'r' },
      { buf: outH, access: 'w', covers: size }, { buf: outC, access: 'w', covers: size },
    ],
    groups: grid1d(size),
  });
}
