// Property-based tests: random shapes and values, a bounded number of cases per property (CI-sized).
// Each property compares an op with an obvious host computation, the two devices with each other,
// or the tape's gradient with finite differences.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { gradcheck } from '@tinytape/autograd';
import { type Device, type Tensor, add, div, matmul, max, mul, sub, sum, tanh, tensor } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';

const devices = await testDevices();
afterAll(releaseTestDevices);
const RUNS = 25;

const dim = fc.integer({ min: 1, max: 6 });
const shape = fc.array(dim, { minLength: 1, maxLength: 4 });
const values = (n: number) => fc.array(fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });

/** Two shapes that broadcast: b takes a's trailing axes and sets some to 1. */
const broadcastPair = shape.chain((a) =>
  fc.tuple(fc.constant(a), fc.integer({ min: 0, max: a.length - 1 }), fc.array(fc.boolean(), { minLength: a.length, maxLength: a.length }))
    .map(([sa, drop, ones]) => [sa, sa.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))] as const),
);

const size = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);
const host = async (t: Tensor) => Array.from(await t.toArray());

function near(a: number[], b: number[], tol: number): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!)));
}

describe.each(devices.map((d) => [d.kind, d] as const))('properties on %s', (_kind, device: Device) => {
  it('broadcasting binary ops equal a host loop', async () => {
    await fc.assert(
      fc.asyncProperty(
        broadcastPair.chain(([sa, sb]) => fc.tuple(fc.constant(sa), fc.constant(sb), values(size(sa)), values(size(sb)))),
        async ([sa, sb, va, vb]) => {
          const a = tensor(va, { shape: sa, device });
          const b = tensor(vb, { shape: sb, device });
          const got = { add: await host(add(a, b)), sub: await host(sub(a, b)), mul: await host(mul(a, b)) };
          const offset = sa.length - sb.length;
          const want = { add: [] as number[], sub: [] as number[], mul: [] as number[] };
          for (let f = 0; f < size(sa); f++) {
            let r = f;
            const coord = new Array<number>(sa.length);
            for (let i = sa.length - 1; i >= 0; i--) { coord[i] = r % sa[i]!; r = Math.floor(r / sa[i]!); }
            const j = sb.reduce((acc, d, i) => acc * d + (d === 1 ? 0 : coord[i + offset]!), 0);
            const x = Math.fround(va[f]!), y = Math.fround(vb[j]!);
            want.add.push(x + y); want.sub.push(x - y); want.mul.push(x * y);
          }
          return near(got.add, want.add, 1e-6) && near(got.sub, want.sub, 1e-6) && near(got.mul, want.mul, 1e-6);
        },
      ),
      { numRuns: RUNS, seed: 1 },
    );
  });

  it('matmul equals a host triple loop for any sizes and transposes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean())
          .chain(([m, k, n, ta, tb]) => fc.tuple(fc.constant([m, k, n, ta, tb] as const), values(m * k), values(k * n))),
        async ([[m, k, n, ta, tb], va, vb]) => {
          // Stored transposed when the flag is set: A as [k, m], B as [n, k].
          const A = tensor(va, { shape: ta ? [k, m] : [m, k], device });
          const B = tensor(vb, { shape: tb ? [n, k] : [k, n], device });
          const got = await host(matmul(A, B, { transA: ta, transB: tb }));
          const a = (i: number, p: number) => Math.fround(ta ? va[p * m + i]! : va[i * k + p]!);
          const b = (p: number, j: number) => Math.fround(tb ? vb[j * k + p]! : vb[p * n + j]!);
          const want: number[] = [];
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += a(i, p) * b(p, j);
            want.push(s);
          }
          return near(got, want, 1e-4 * Math.sqrt(k));
        },
      ),
      { numRuns: RUNS, seed: 2 },
    );
  });

  it('sum and max over a random axis equal host reductions', async () => {
    await fc.assert(
      fc.asyncProperty(
        shape.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), values(size(s)))),
        async ([s, axis, v]) => {
          const x = tensor(v, { shape: s, device });
          const gotSum = await host(sum(x, axis));
          const gotMax = await host(max(x, axis));
          const outer = size(s.slice(0, axis)), len = s[axis]!, inner = size(s.slice(axis + 1));
          const wantSum: number[] = [], wantMax: number[] = [];
          for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
            let acc = 0, best = -Infinity;
            for (let a = 0; a < len; a++) {
              const value = Math.fround(v[(o * len + a) * inner + i]!);
              acc += value; best = Math.max(best, value);
            }
            wantSum.push(acc); wantMax.push(best);
          }
          return near(gotSum, wantSum, 1e-5) && near(gotMax, wantMax, 0);
        },
      ),
      { numRuns: RUNS, seed: 3 },
    );
  });

  it('autograd matches finite differences on random broadcasting expressions', async () => {
    await fc.assert(
      fc.asyncProperty(
        broadcastPair
          .filter(([sa]) => size(sa) <= 12)
          .chain(([sa, sb]) => fc.tuple(fc.constant(sa), fc.constant(sb), values(size(sa)), values(size(sb)))),
        async ([sa, sb, va, vb]) => {
          const a = tensor(va.map((x) => x / 4), { shape: sa, device });
          const b = tensor(vb.map((x) => 2 + Math.abs(x) / 4), { shape: sb, device }); // away from 0 for div
          const result = await gradcheck((x, y) => tanh(div(mul(x, add(x, y)), y!)), [a, b]);
          a.dispose();
          b.dispose();
          return result.ok;
        },
      ),
      { numRuns: 10, seed: 4 },
    );
  });
});

describe.runIf(devices.length > 1)('CPU and WebGPU agree', () => {
  it('on random elementwise, matmul and reduction chains', async () => {
    const [cpu, gpu] = devices as [Device, Device];
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.integer({ min: 1, max: 33 }), fc.integer({ min: 1, max: 33 }), fc.integer({ min: 1, max: 33 }))
          .chain(([m, k, n]) => fc.tuple(fc.constant([m, k, n] as const), values(m * k), values(k * n), values(n))),
        async ([[m, k, n], va, vb, vc]) => {
          const run = async (device: Device) => {
            const A = tensor(va, { shape: [m, k], device });
            const B = tensor(vb, { shape: [k, n], device });
            const c = tensor(vc, { shape: [n], device });
            return host(sum(tanh(add(matmul(A, B), c)), 0));
          };
          return near(await run(gpu), await run(cpu), 1e-4);
        },
      ),
      { numRuns: RUNS, seed: 5 },
    );
  });
});
