// gruCell / lstmCell against the same step written as separate ops: bit-identical on the CPU backends
// (the kernel rounds where the ops store), equal to float32 round-off on WebGPU; and their argument checks.
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, ShapeError, StateError, type Tensor, add, mul, sigmoid, slice, sub, tanh, uniform } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { gruCell, lstmCell } from '../src/kernels/recurrent-cells.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

const batch = 3;
const hidden = 5;

function gruOps(xp: Tensor, hp: Tensor, bias: Tensor, h: Tensor): Tensor {
  const hb = add(hp, bias);
  const rz = sigmoid(add(slice(xp, 1, 0, 2 * hidden), slice(hb, 1, 0, 2 * hidden)));
  const r = slice(rz, 1, 0, hidden);
  const z = slice(rz, 1, hidden, 2 * hidden);
  const n = tanh(add(slice(xp, 1, 2 * hidden), mul(r, slice(hb, 1, 2 * hidden))));
  return add(n, mul(z, sub(h, n)));
}

function lstmOps(xp: Tensor, hp: Tensor, c: Tensor): [Tensor, Tensor] {
  const gates = add(xp, hp);
  const ifg = sigmoid(slice(gates, 1, 0, 2 * hidden));
  const g = tanh(slice(gates, 1, 2 * hidden, 3 * hidden));
  const o = sigmoid(slice(gates, 1, 3 * hidden));
  const cNext = add(mul(slice(ifg, 1, hidden, 2 * hidden), c), mul(slice(ifg, 1, 0, hidden), g));
  return [mul(o, tanh(cNext)), cNext];
}

async function expectSame(kind: string, got: Tensor, want: Tensor): Promise<void> {
  const [a, b] = [await got.toArray(), await want.toArray()];
  if (kind !== 'webgpu') expect(Array.from(a)).toEqual(Array.from(b));
  else a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));
}

describe.each(devices.map((d) => [d.kind, d] as const))('recurrent cells on %s', (kind, device) => {
  // Wide enough a range that sigmoid and tanh saturate for some elements and not for others.
  const draw = (shape: number[], g: Generator) => uniform(shape, -6, 6, { device, generator: g });

  it('gruCell equals the GRU step written as separate ops', async () => {
    const g = new Generator(11);
    const [xp, hp, bias, h] = [draw([batch, 3 * hidden], g), draw([batch, 3 * hidden], g), draw([3 * hidden], g), draw([batch, hidden], g)];
    await expectSame(kind, gruCell(xp, hp, bias, h), gruOps(xp, hp, bias, h));
  });

  it('lstmCell equals the LSTM step written as separate ops', async () => {
    const g = new Generator(12);
    const [xp, hp, c] = [draw([batch, 4 * hidden], g), draw([batch, 4 * hidden], g), draw([batch, hidden], g)];
    const [h1, c1] = lstmCell(xp, hp, c);
    const [h2, c2] = lstmOps(xp, hp, c);
    await expectSame(kind, c1, c2);
    await expectSame(kind, h1, h2);
  });

  it('refuses misshapen inputs and inputs that would need a gradient', () => {
    const g = new Generator(13);
    const xp = draw([batch, 3 * hidden], g);
    const h = draw([batch, hidden], g);
    const bias = draw([3 * hidden], g);
    expect(() => gruCell(xp, draw([batch, 4 * hidden], g), bias, h)).toThrow(ShapeError);
    expect(() => lstmCell(xp, xp, h)).toThrow(/lstmCell: expected xp and hp \[3,20\]/);
    expect(() => gruCell(xp, xp, bias, uniform([batch, hidden], 0, 1, { device, requiresGrad: true }))).toThrow(StateError);
  });
});
