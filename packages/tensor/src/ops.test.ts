import { afterAll, describe, expect, it } from 'vitest';
import {
  DTypeError, DeviceError, Generator, ShapeError, StateError, type Tensor,
  add, arange, argmax, concat, cpu, crossEntropy, div, full, gather, logSoftmax, matmul, max, maximum,
  mean, memory, mul, normal, oneHot, ones, permute, reshape, scope, slice, softmax, stack, sub, sum,
  swapaxes, tanh, tensor, transpose, uniform, zeros,
} from './index.ts';
import { releaseTestDevices, testDevices } from './testing.ts';

const devices = await testDevices();
afterAll(releaseTestDevices);

const gen = new Generator(42);
function rand(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => gen.nextFloat() * 2 - 1);
}
async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.toArray());
}
function close(got: number[], want: number[], tol = 1e-4): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (!(Math.abs(g - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) {
      throw new Error(`element ${i}: got ${g}, want ${want[i]}`);
    }
  });
}

describe.each(devices.map((d) => [d.kind, d] as const))('ops on %s', (_kind, device) => {
  const t = (data: Float32Array | number[], shape: number[]) =>
    tensor(data instanceof Float32Array ? data : Float32Array.from(data), { shape, device });

  it('broadcasts add/sub/mul/div like NumPy, against a plain loop', async () => {
    for (const [sa, sb] of [[[3, 1], [1, 4]], [[2, 3, 4], [4]], [[33], [33]], [[1], [5, 2]], [[2, 1, 3], [2, 5, 1]]] as number[][][]) {
      const a = rand(sa!);
      const b = rand(sb!).map((v) => v + 3); // keep division away from zero
      const A = t(a, sa!);
      const B = t(b, sb!);
      const out = add(A, B);
      const shape = out.shape;
      const rank = shape.length;
      const idx = (s: number[], coord: number[]) =>
        s.reduce((acc, d, i) => acc * d + (d === 1 ? 0 : coord[rank - s.length + i]!), 0);
      const want = { add: [] as number[], sub: [] as number[], mul: [] as number[], div: [] as number[] };
      const n = out.size;
      for (let f = 0; f < n; f++) {
        const coord: number[] = [];
        let r = f;
        for (let i = rank - 1; i >= 0; i--) { coord[i] = r % shape[i]!; r = Math.floor(r / shape[i]!); }
        const x = a[idx(sa!, coord)]!, y = b[idx(sb!, coord)]!;
        want.add.push(x + y); want.sub.push(x - y); want.mul.push(x * y); want.div.push(x / y);
      }
      close(await values(out), want.add);
      close(await values(sub(A, B)), want.sub);
      close(await values(mul(A, B)), want.mul);
      close(await values(div(A, B)), want.div);
    }
  });

  it('mixes tensors and numbers on either side', async () => {
    const x = t([1, 2, 4], [3]);
    close(await values(sub(1, x)), [0, -1, -3]);
    close(await values(div(8, x)), [8, 4, 2]);
    close(await values(x.mul(2).add(1)), [3, 5, 9]);
    close(await values(maximum(x, 2)), [2, 2, 4]);
  });

  it('matmul: 2-D, batched, broadcast batch and transposed operands', async () => {
    const ref = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
        out.push(s);
      }
      return out;
    };
    const [m, k, n] = [33, 17, 5];
    const a = rand([m, k]), b = rand([k, n]);
    close(await values(matmul(t(a, [m, k]), t(b, [k, n]))), ref(a, b, m, k, n));
    // Aᵀ stored as [k, m] and Bᵀ stored as [n, k], read transposed without a copy.
    const aT = await values(transpose(t(a, [m, k])));
    const bT = await values(transpose(t(b, [k, n])));
    const viaFlags = matmul(t(aT, [k, m]), t(bT, [n, k]), { transA: true, transB: true });
    close(await values(viaFlags), ref(a, b, m, k, n));
    const batchA = rand([3, 4, 6]);
    const shared = rand([6, 2]);
    const out = matmul(t(batchA, [3, 4, 6]), t(shared, [6, 2]));
    expect(out.shape).toEqual([3, 4, 2]);
    const want = [0, 1, 2].flatMap((i) => ref(batchA.slice(i * 24, i * 24 + 24), shared, 4, 6, 2));
    close(await values(out), want);
  });

  it('sum, mean, max over an axis, several axes or all, with keepdims; argmax', async () => {
    const x = t(rand([2, 3, 4]), [2, 3, 4]);
    const host = await values(x);
    const at = (i: number, j: number, k: number) => host[i * 12 + j * 4 + k]!;
    const s1 = sum(x, 1);
    expect(s1.shape).toEqual([2, 4]);
    const want1: number[] = [];
    for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) want1.push(at(i, 0, k) + at(i, 1, k) + at(i, 2, k));
    close(await values(s1), want1);
    expect(sum(x, -1, true).shape).toEqual([2, 3, 1]);
    expect(sum(x, [0, 2]).shape).toEqual([3]);
    close(await values(sum(x)), [host.reduce((p, q) => p + q, 0)]);
    expect(sum(x).shape).toEqual([]);
    close(await values(mean(x, [0, 1, 2], true)), [host.reduce((p, q) => p + q, 0) / 24]);
    const mx = await values(max(x, 2));
    const am = await values(argmax(x, 2));
    for (let r = 0; r < 6; r++) {
      const row = host.slice(r * 4, r * 4 + 4);
      expect(mx[r]).toBeCloseTo(Math.max(...row), 6);
      expect(am[r]).toBe(row.indexOf(Math.max(...row)));
    }
    expect((await argmax(x)).dtype).toBe('int32');
  });

  it('reshape, transpose, permute, swapaxes, slice, concat, stack', async () => {
    const x = arange(24, undefined, 1, { device, dtype: 'float32' });
    const r = reshape(x, [2, 3, -1]);
    expect(r.shape).toEqual([2, 3, 4]);
    const p = permute(r, [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    const pv = await values(p);
    for (let a = 0; a < 4; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) {
      expect(pv[a * 6 + b * 3 + c]).toBe(b * 12 + c * 4 + a);
    }
    expect(await values(swapaxes(r, 0, 2))).toEqual(await values(permute(r, [2, 1, 0])));
    const s = slice(r, 2, 1, 3);
    expect(s.shape).toEqual([2, 3, 2]);
    expect((await values(s)).slice(0, 4)).toEqual([1, 2, 5, 6]);
    expect(await values(slice(r, 0, -1))).toEqual(Array.from({ length: 12 }, (_, i) => i + 12));
    const c = concat([s, slice(r, 2, 0, 1)], 2);
    expect(c.shape).toEqual([2, 3, 3]);
    expect((await values(c)).slice(0, 3)).toEqual([1, 2, 0]);
    const st = stack([x, x], 1);
    expect(st.shape).toEqual([24, 2]);
    expect((await values(st)).slice(0, 4)).toEqual([0, 0, 1, 1]);
  });

  it("the seeds' shape facts: oneHot of Xᵀ is [5,2,28]; cat((X,H),1) @ cat((W_xh,W_hh),0) = X W_xh + H W_hh", async () => {
    const X = reshape(arange(10, undefined, 1, { device }), [2, 5]);
    const oh = oneHot(transpose(X), 28);
    expect(oh.shape).toEqual([5, 2, 28]);
    const ohv = await values(oh);
    expect(ohv.reduce((p, q) => p + q, 0)).toBe(10);
    expect(ohv[0 * 56 + 1 * 28 + 5]).toBe(1); // Xᵀ[0][1] = X[1][0] = 5
    const g = new Generator(3);
    const Xs = normal(0, 1, [3, 1], { device, generator: g });
    const Wxh = normal(0, 1, [1, 4], { device, generator: g });
    const H = normal(0, 1, [3, 4], { device, generator: g });
    const Whh = normal(0, 1, [4, 4], { device, generator: g });
    const left = add(matmul(Xs, Wxh), matmul(H, Whh));
    const right = matmul(concat([Xs, H], 1), concat([Wxh, Whh], 0));
    close(await values(left), await values(right), 1e-5);
  });

  it('gather rows, softmax, logSoftmax and a stable cross-entropy', async () => {
    const table = t(rand([5, 3]), [5, 3]);
    const idx = tensor([[4, 0], [2, 2]], { dtype: 'int32', device });
    const gv = gather(table, idx);
    expect(gv.shape).toEqual([2, 2, 3]);
    const tv = await values(table);
    expect((await values(gv)).slice(0, 3)).toEqual(tv.slice(12, 15));
    const logits = t([1000, 0, -1000, 1, 2, 3], [2, 3]);
    const sm = await values(softmax(logits));
    close(sm.slice(0, 3), [1, 0, 0]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const z = e[0]! + e[1]! + e[2]!;
    close(sm.slice(3), e.map((v) => v / z));
    close((await values(logSoftmax(logits))).slice(3), e.map((v) => Math.log(v / z)));
    const targets = tensor([1, 2], { dtype: 'int32', device });
    const ce = await crossEntropy(logits, targets).item();
    expect(ce).toBeCloseTo((1000 + (Math.log(z) - 3)) / 2, 3);
    expect(softmax(t(rand([2, 3, 4]), [2, 3, 4]), 1).shape).toEqual([2, 3, 4]);
  });

  it('in-place updates for optimizers: axpy_, mul_ by a device scalar, fill_, assign_', async () => {
    const p = t([1, 2, 3], [3]);
    p.axpy_(t([1, 1, 1], [3]), -0.5);
    close(await values(p), [0.5, 1.5, 2.5]);
    p.mul_(full([], 2, { device }));
    close(await values(p), [1, 3, 5]);
    p.mul_(3).add_(1);
    close(await values(p), [4, 10, 16]);
    p.assign_(t([7, 8, 9], [3]));
    close(await values(p), [7, 8, 9]);
    p.fill_(0);
    close(await values(p), [0, 0, 0]);
  });

  it('creation: zeros, ones, full, arange, seeded normal/uniform identical across runs', async () => {
    expect(await values(zeros([2, 2], { device }))).toEqual([0, 0, 0, 0]);
    expect(await values(ones([3], { device }))).toEqual([1, 1, 1]);
    expect(await values(full([2], 2.5, { device }))).toEqual([2.5, 2.5]);
    expect(await values(arange(1, 2, 0.25, { device }))).toEqual([1, 1.25, 1.5, 1.75]);
    const a = await values(normal(0, 0.01, [1000], { device, generator: new Generator(5) }));
    const b = await values(normal(0, 0.01, [1000], { device, generator: new Generator(5) }));
    expect(a).toEqual(b);
    const m = a.reduce((p, q) => p + q, 0) / a.length;
    const sd = Math.sqrt(a.reduce((p, q) => p + (q - m) ** 2, 0) / a.length);
    expect(Math.abs(m)).toBeLessThan(0.002);
    expect(sd).toBeGreaterThan(0.009);
    expect(sd).toBeLessThan(0.011);
    const u = await values(uniform([500], -2, 3, { device, generator: new Generator(1) }));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
  });

  it('errors name the op and the shapes', () => {
    const a = t(rand([32, 28]), [32, 28]);
    const b = t(rand([512, 28]), [512, 28]);
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow('matmul: inner dimensions differ: [32,28] x [512,28]');
    expect(() => add(a, t(rand([3]), [3]))).toThrow('add: shapes [32,28] and [3] cannot be broadcast together');
    expect(() => reshape(a, [5, -1])).toThrow(ShapeError);
    expect(() => crossEntropy(a, a)).toThrow(DTypeError);
    expect(() => sum(a, 2)).toThrow('sum: axis 2 out of range for shape [32,28]');
    expect(() => slice(a, 0, 10, 40)).toThrow(ShapeError);
    const dead = t([1], [1]);
    dead.dispose();
    expect(() => tanh(dead)).toThrow(StateError);
  });

  it('scope() disposes temporaries and keeps what it returns', () => {
    const before = memory(device).liveTensors;
    const kept = scope(() => {
      const x = ones([4, 4], { device });
      const y = x.mul(2).add(1).tanh();
      return { y };
    });
    expect(memory(device).liveTensors).toBe(before + 1);
    kept.y.dispose();
    expect(memory(device).liveTensors).toBe(before);
    expect(() => scope(() => { ones([2], { device }); throw new Error('boom'); })).toThrow('boom');
    expect(memory(device).liveTensors).toBe(before);
  });
});

describe('devices', () => {
  it('mixing devices in one op is a clear error', async () => {
    const gpu = devices.find((d) => d.kind === 'webgpu');
    if (gpu === undefined) {
      // Without a second device the mix cannot be made; a CPU-only run checks the message format elsewhere.
      expect(devices).toHaveLength(1);
      return;
    }
    const a = ones([2], { device: cpu() });
    const b = ones([2], { device: gpu });
    expect(() => add(a, b)).toThrow(DeviceError);
    expect(() => add(a, b)).toThrow('add: tensors are on different devices ([2] on cpu, [2] on webgpu)');
    const moved = await b.to(cpu());
    expect(await values(add(a, moved))).toEqual([2, 2]);
  });
});
