// gruStepGrad / lstmStepGrad against the op-by-op step they replace in the sequence rule
// (layers/sequence-grad.ts before the kernels): bit-identical on the CPU backends, equal to float32
// round-off on WebGPU. Covers a single batch row, hidden sizes that are not multiples of 4, the first
// and the last time step, with and without a carry; and that only row t of the whole-sequence buffers is written.
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, ShapeError, type Tensor, add, concat, mul, reshape, slice, uniform, unsqueeze } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { gruStepGrad, lstmStepGrad } from '../src/kernels/cell-grads.ts';
import { timeStep as step } from '../src/layers/cells.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

const plus = (a: Tensor, b: Tensor | null) => (b === null ? a : add(a, b));

/**
 * The GRU step as the rule wrote it op by op, with coef = [Cr, Cz, Cn, A]: [dHp = dh ⊙ [Cr, Cz, Cn],
 * dh ⊙ z_t, dXp = dh ⊙ [Cr, Cz, A]].
 */
function gruOps(t: number, g: Tensor, coef: Tensor, z: Tensor, carry: Tensor | null): Tensor[] {
  const [, batch, hidden] = g.shape as [number, number, number];
  const dh = plus(step(g, t), carry);
  const c = step(coef, t);
  const times = (blocks: Tensor) => reshape(mul(unsqueeze(dh, 1), blocks), [batch, 3 * hidden]);
  return [times(slice(c, 1, 0, 3)), mul(dh, step(z, t)), times(concat([slice(c, 1, 0, 2), slice(c, 1, 3)], 1))];
}

/** The LSTM step as the rule wrote it op by op: [dh, dc, gate row, dc ⊙ f_t]. */
function lstmOps(t: number, g: Tensor, kifg: Tensor, ko: Tensor, k1: Tensor, f: Tensor, carry: { h: Tensor; c: Tensor } | null): Tensor[] {
  const [, batch, twice] = g.shape as [number, number, number];
  const hidden = twice / 2;
  const dh = plus(step(slice(g, 2, 0, hidden), t), carry?.h ?? null);
  const dc = add(plus(step(slice(g, 2, hidden), t), carry?.c ?? null), mul(dh, step(k1, t)));
  const gates = concat([reshape(mul(unsqueeze(dc, 1), step(kifg, t)), [batch, 3 * hidden]), mul(dh, step(ko, t))], 1);
  return [dh, dc, gates, mul(dc, step(f, t))];
}

async function expectSame(kind: string, got: Tensor, want: Tensor): Promise<void> {
  expect(got.shape).toEqual(want.shape);
  const [a, b] = [await got.toArray(), await want.toArray()];
  if (kind !== 'webgpu') expect(Array.from(a)).toEqual(Array.from(b));
  else a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
}

/** Rows other than t of a [numSteps, batch, hidden] buffer are as they were. */
async function expectOtherRowsKept(buf: Tensor, before: Float32Array, t: number): Promise<void> {
  const [, batch, hidden] = buf.shape as [number, number, number];
  const row = batch * hidden;
  const after = await buf.toArray();
  for (let i = 0; i < after.length; i++) if (Math.floor(i / row) !== t) expect(after[i]).toBe(before[i]);
}

const SIZES = [
  { numSteps: 3, batch: 1, hidden: 5 },
  { numSteps: 4, batch: 3, hidden: 7 },
];

describe.each(devices.map((d) => [d.kind, d] as const))('cell step gradients on %s', (kind, device) => {
  const draw = (shape: number[], gen: Generator) => uniform(shape, -2, 2, { device, generator: gen });

  describe.each(SIZES)('$numSteps steps, batch $batch, hidden $hidden', ({ numSteps, batch, hidden }) => {
    const cases = [0, numSteps - 1].flatMap((t) => [false, true].map((withCarry) => ({ t, withCarry })));

    it.each(cases)('gruStepGrad at t = $t (carry: $withCarry) equals the op-by-op step', async ({ t, withCarry }) => {
      const gen = new Generator(21 + t);
      const g = draw([numSteps, batch, hidden], gen);
      const coef = draw([numSteps, batch, 4, hidden], gen);
      const z = draw([numSteps, batch, hidden], gen);
      const carry = withCarry ? draw([batch, hidden], gen) : null;
      const [allHp, allXp] = [draw([numSteps, batch, 3 * hidden], gen), draw([numSteps, batch, 3 * hidden], gen)];
      const [beforeHp, beforeXp] = [await allHp.toArray(), await allXp.toArray()];
      const { dHp, dhz } = gruStepGrad(t, g, coef, z, carry, allHp, allXp);
      const [wantDHp, wantDhz, wantDXp] = gruOps(t, g, coef, z, carry);
      await expectSame(kind, dHp, wantDHp!);
      await expectSame(kind, dhz, wantDhz!);
      await expectSame(kind, step(allHp, t), wantDHp!);
      await expectSame(kind, step(allXp, t), wantDXp!);
      await expectOtherRowsKept(allHp, beforeHp, t);
      await expectOtherRowsKept(allXp, beforeXp, t);
    });

    it.each(cases)('lstmStepGrad at t = $t (carry: $withCarry) equals the op-by-op step', async ({ t, withCarry }) => {
      const gen = new Generator(31 + t);
      const state = [numSteps, batch, hidden];
      const g = draw([numSteps, batch, 2 * hidden], gen);
      const kifg = draw([numSteps, batch, 3, hidden], gen);
      const [ko, k1, f] = [draw(state, gen), draw(state, gen), draw(state, gen)];
      const carry = withCarry ? { h: draw([batch, hidden], gen), c: draw([batch, hidden], gen) } : null;
      const [dhs, dcs] = [draw(state, gen), draw(state, gen)];
      const [beforeH, beforeC] = [await dhs.toArray(), await dcs.toArray()];
      const asBlock = (x: Tensor) => reshape(x, [numSteps, batch, 1, hidden]);
      const coef = concat([kifg, asBlock(ko), asBlock(k1), asBlock(f)], 2);
      const { gates, nextC } = lstmStepGrad(t, g, coef, carry, dhs, dcs);
      const [dh, dc, wantGates, wantNextC] = lstmOps(t, g, kifg, ko, k1, f, carry);
      await expectSame(kind, step(dhs, t), dh!);
      await expectSame(kind, step(dcs, t), dc!);
      await expectSame(kind, gates, wantGates!);
      await expectSame(kind, nextC, wantNextC!);
      await expectOtherRowsKept(dhs, beforeH, t);
      await expectOtherRowsKept(dcs, beforeC, t);
    });
  });

  it('refuses misshapen inputs and a step out of range', () => {
    const gen = new Generator(41);
    const [numSteps, batch, hidden] = [3, 2, 5];
    const state = [numSteps, batch, hidden];
    const g = draw(state, gen);
    const coef = draw([numSteps, batch, 3, hidden], gen);
    const coef4 = draw([numSteps, batch, 4, hidden], gen);
    const z = draw(state, gen);
    const dhs = draw(state, gen);
    const all = draw([numSteps, batch, 3 * hidden], gen);
    expect(() => gruStepGrad(numSteps, g, coef4, z, null, all, all)).toThrow(/step 3 out of range/);
    expect(() => gruStepGrad(0, g, coef, z, null, all, all)).toThrow(ShapeError);
    expect(() => gruStepGrad(0, g, coef4, z, draw([batch, hidden + 1], gen), all, all)).toThrow(/expected carry \[2,5\]/);
    expect(() => gruStepGrad(0, g, coef4, z, null, dhs, all)).toThrow(/expected allHp \[3,2,15\]/);
    const g2 = draw([numSteps, batch, 2 * hidden], gen);
    const coef6 = draw([numSteps, batch, 6, hidden], gen);
    expect(() => lstmStepGrad(0, g2, coef6, { h: z, c: z }, dhs, dhs)).toThrow(/expected carry.h \[2,5\]/);
    expect(() => lstmStepGrad(0, g2, coef, null, dhs, dhs)).toThrow(/expected coef \[3,2,6,5\]/);
    expect(() => lstmStepGrad(0, g, coef6, null, dhs, dhs)).toThrow(ShapeError);
  });
});
