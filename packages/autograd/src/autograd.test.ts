import { afterAll, describe, expect, it } from 'vitest';
import {
  Generator, StateError, type Tensor,
  abs, add, broadcastTo, concat, crossEntropy, div, exp, gather, log, logSoftmax, matmul, max, maximum, mean,
  memory, minimum, mul, neg, normal, ones, permute, pow, relu, reshape, scope, sigmoid, slice, softmax, sqrt,
  square, stack, startProfile, sub, sum, tanh, tensor, uniform, unaryOp,
} from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { backward, formatTape, gradcheck, noGrad, tape, zeroGrad } from './index.ts';
import { DEFER_MAX_ROWS } from './deferred-products.ts';

// The reference device too: its plain loops are the definition the others are held to.
const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

type Case = [name: string, fn: (...xs: Tensor[]) => Tensor, shapes: number[][], opts?: { positive?: boolean; distinct?: boolean; int?: Record<number, number[]> }];

// One case per differentiable op (and the composite ops built from them), on small odd shapes.
const cases: Case[] = [
  ['neg', (x) => neg(x), [[3, 1]]],
  ['exp', (x) => exp(x), [[5]]],
  ['log', (x) => log(x), [[4]], { positive: true }],
  ['tanh', (x) => tanh(x), [[2, 3]]],
  ['sigmoid', (x) => sigmoid(x), [[3]]],
  ['relu', (x) => relu(x), [[7]]],
  ['sqrt', (x) => sqrt(x), [[3]], { positive: true }],
  ['square', (x) => square(x), [[3]]],
  ['abs', (x) => abs(x), [[5]]],
  ['step (relu\'s derivative)', (x) => unaryOp('step', x), [[5]]],
  ['oneMinusSquare (tanh\'s derivative)', (x) => unaryOp('oneMinusSquare', x), [[5]]],
  ['sigmoidGradFromOutput (sigmoid\'s derivative)', (x) => unaryOp('sigmoidGradFromOutput', x), [[5]]],
  ['add broadcast', (a, b) => add(a, b), [[3, 1], [1, 4]]],
  ['sub broadcast', (a, b) => sub(a, b), [[2, 3], [3]]],
  ['mul broadcast', (a, b) => mul(a, b), [[2, 1, 3], [2, 5, 1]]],
  ['div broadcast', (a, b) => div(a, b), [[3, 2], [2]], { positive: true }],
  ['maximum', (a, b) => maximum(a, b), [[6], [6]]],
  ['minimum', (a, b) => minimum(a, b), [[2, 3], [3]]],
  ['scalar ops', (x) => div(sub(3, mul(add(x, 1), 2)), 4), [[4]]],
  ['rdiv scalar', (x) => div(2, x), [[3]], { positive: true }],
  ['pow scalar', (x) => pow(x, 3), [[3]]],
  ['maximum scalar', (x) => minimum(maximum(x, -0.2), 0.3), [[6]]],
  ['matmul', (a, b) => matmul(a, b), [[3, 4], [4, 2]]],
  ['matmul transA', (a, b) => matmul(a, b, { transA: true }), [[4, 3], [4, 2]]],
  ['matmul transB', (a, b) => matmul(a, b, { transB: true }), [[3, 4], [2, 4]]],
  ['matmul both', (a, b) => matmul(a, b, { transA: true, transB: true }), [[4, 3], [2, 4]]],
  ['matmul batched+broadcast', (a, b) => matmul(a, b), [[2, 3, 4], [4, 5]]],
  ['sum axis', (x) => sum(x, 1), [[2, 3, 4]]],
  ['sum all', (x) => sum(x), [[3, 4]]],
  ['mean axes keepdims', (x) => mean(x, [0, 2], true), [[2, 3, 2]]],
  ['max axis', (x) => max(x, 1), [[3, 5]], { distinct: true }],
  ['max middle axis', (x) => max(x, 1), [[2, 4, 3]], { distinct: true }],
  ['broadcastTo', (x) => broadcastTo(x, [3, 2, 4]), [[2, 1]]],
  ['reshape', (x) => reshape(x, [6, -1]), [[2, 3, 2]]],
  ['transpose/permute', (x) => permute(x, [2, 0, 1]), [[2, 3, 4]]],
  ['slice', (x) => slice(x, 1, 1, 3), [[2, 4]]],
  ['concat', (a, b) => concat([a, b], 1), [[2, 3], [2, 1]]],
  ['stack', (a, b) => stack([a, b], 0), [[3], [3]]],
  ['gather (repeated rows)', (t, i) => gather(t, i!), [[4, 3]], { int: { 1: [2, 0, 2] } }],
  ['softmax', (x) => softmax(x), [[2, 5]]],
  ['softmax axis 0', (x) => softmax(x, 0), [[3, 2]]],
  ['logSoftmax', (x) => logSoftmax(x), [[3, 4]]],
  ['crossEntropy', (l, y) => crossEntropy(l, y!), [[3, 5]], { int: { 1: [4, 0, 2] } }],
];

describe.each(devices.map((d) => [d.kind, d] as const))('gradients on %s', (_kind, device) => {
  it.each(cases)('gradcheck %s', async (_name, fn, shapes, opts = {}) => {
    const gen = new Generator(11);
    const inputs: Tensor[] = shapes.map((s) => {
      if (opts.distinct) {
        // Values 0.1 apart, so no two are within the finite-difference step of each other (max is kinked at ties).
        const n = s.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => i * 0.1);
        for (let i = n - 1; i > 0; i--) {
          const j = gen.nextUint32() % (i + 1);
          [values[i], values[j]] = [values[j]!, values[i]!];
        }
        return tensor(values, { shape: s, device });
      }
      return opts.positive ? uniform(s, 0.5, 2, { device, generator: gen }) : uniform(s, -1, 1, { device, generator: gen });
    });
    for (const [pos, data] of Object.entries(opts.int ?? {})) {
      inputs.splice(Number(pos), 0, tensor(data, { dtype: 'int32', device }));
    }
    const result = await gradcheck(fn, inputs);
    expect(result.failures).toEqual([]);
    expect(result.checked).toBeGreaterThan(0);
    for (const t of inputs) t.dispose();
  });

  it('accumulates into .grad across backward calls; zeroGrad resets', async () => {
    const w = tensor([1, 2, 3], { device, requiresGrad: true });
    backward(sum(mul(w, w)));
    expect(Array.from(await w.grad!.toArray())).toEqual([2, 4, 6]);
    backward(sum(w));
    expect(Array.from(await w.grad!.toArray())).toEqual([3, 5, 7]);
    zeroGrad([w]);
    expect(Array.from(await w.grad!.toArray())).toEqual([0, 0, 0]);
    w.dispose();
  });

  it('matmul computes no gradient product for an input that takes none', () => {
    const g = new Generator(9);
    const W = uniform([6, 5], -1, 1, { device, generator: g, requiresGrad: true });
    const x = uniform([DEFER_MAX_ROWS + 1, 6], -1, 1, { device, generator: g });
    const loss = sum(matmul(x, W));
    const profile = startProfile(device);
    backward(loss);
    const products = profile.stop().filter((t) => t.kernel.startsWith('matmul'));
    // Only dW = xᵀ·G; dx = G·Wᵀ is not computed.
    expect(products.map((t) => t.kernel)).toEqual([`matmul tn [6,${DEFER_MAX_ROWS + 1}]x[${DEFER_MAX_ROWS + 1},5]`]);
    W.dispose();
  });

  // A weight used at every step gets one gradient term per use. Terms with a short contraction (a
  // time step's batch, up to DEFER_MAX_ROWS rows) are summed as one product over the stacked rows at
  // the end of backward; longer ones are added into the running sum by the matmul kernel itself.
  it.each([
    { rows: 3, kernels: { 'matmul tn [6,12]x[12,6]': 1 }, path: 'deferred: one product over the 4 stacked terms' },
    {
      rows: DEFER_MAX_ROWS + 1,
      kernels: { [`matmul tn [6,${DEFER_MAX_ROWS + 1}]x[${DEFER_MAX_ROWS + 1},6]`]: 1, [`matmul tn+= [6,${DEFER_MAX_ROWS + 1}]x[${DEFER_MAX_ROWS + 1},6]`]: 3 },
      path: 'the kernel adds 3 terms into the first',
    },
  ])('a weight used at every step, $rows rows a step: $path', async ({ rows, kernels }) => {
    const g = new Generator(5);
    const W = uniform([6, 6], -0.5, 0.5, { device, generator: g, requiresGrad: true });
    const x = uniform([rows, 6], -1, 1, { device, generator: g });
    const run = (steps: number) => {
      let h = x;
      for (let t = 0; t < steps; t++) h = tanh(matmul(h, W));
      return sum(h);
    };
    // Reference: the gradient of each use of W taken on its own, summed on the host.
    const perStep = async (t: number): Promise<Float32Array> => {
      const Wc = W.detach().requireGrad();
      let h = x;
      for (let s = 0; s < 4; s++) h = tanh(matmul(h, s === t ? Wc : W.detach()));
      backward(sum(h));
      const grad = (await Wc.grad!.toArray()) as Float32Array;
      Wc.dispose();
      return grad;
    };
    const parts = await Promise.all([0, 1, 2, 3].map((t) => perStep(t)));
    const loss = run(4);
    const profile = startProfile(device);
    backward(loss);
    const timings = profile.stop();
    // W's gradient products, and no separate additions of terms.
    const weightProducts = Object.fromEntries(timings.filter((t) => /^matmul tn/.test(t.kernel)).map((t) => [t.kernel, t.calls]));
    expect(weightProducts).toEqual(kernels);
    expect(timings.some((t) => t.kernel === 'axpy' || t.kernel === 'binary add')).toBe(false);
    const got = await W.grad!.toArray();
    const want = parts[0]!.map((_, i) => parts.reduce((s, p) => s + p[i]!, 0));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    W.dispose();
  });

  it('detach cuts the graph and noGrad records nothing', async () => {
    const w = tensor([2], { device, requiresGrad: true });
    const y = mul(w.detach(), w); // d/dw = detached value 2
    backward(y);
    expect(await w.grad!.item()).toBe(2);
    const before = tape.length;
    noGrad(() => mul(w, w).dispose());
    expect(tape.length).toBe(before);
    expect(noGrad(() => mul(w, 3)).requiresGrad).toBe(false);
    w.dispose();
  });

  it('walks a 2,000-step chain without recursion', async () => {
    const w = tensor([0.5], { device, requiresGrad: true });
    const h = scope(() => {
      let x = w;
      for (let i = 0; i < 2000; i++) x = mul(x, 1.0001);
      backward(x);
    });
    expect(h).toBeUndefined();
    expect(await w.grad!.item()).toBeCloseTo(1.0001 ** 2000, 3);
    w.dispose();
  });

  it('refuses a backward pass through a value overwritten in place', () => {
    const w = tensor([1, 2], { device, requiresGrad: true });
    const h = mul(w, 2);
    const y = sum(mul(h, h));
    noGrad(() => h.add_(1));
    expect(() => backward(y)).toThrow(StateError);
    expect(() => w.add_(1)).toThrow('add_: tensor [2] requires grad; update it inside noGrad');
    w.dispose();
  });

  it('scopes: a loss returned from a scope still has its graph; an unused graph is dropped with its tensors', async () => {
    const w = tensor([1, 2, 3], { device, requiresGrad: true });
    const live = memory(device).liveTensors;
    const loss = scope(() => mean(square(mul(w, 2))));
    expect(tape.length).toBeGreaterThan(0);
    backward(loss); // the intermediates the scope would have freed were kept by the tape until now
    loss.dispose();
    expect(Array.from(await w.grad!.toArray()).map((v) => +v.toFixed(5))).toEqual([8 / 3, 16 / 3, 8].map((v) => +v.toFixed(5)));
    expect(memory(device).liveTensors).toBe(live + 1); // w.grad
    scope(() => {
      sum(tanh(w)); // a forward pass nobody differentiates
    });
    expect(tape.length).toBe(0);
    expect(memory(device).liveTensors).toBe(live + 1);
    w.dispose();
  });

  it('prints the tape: one line per op with shapes and names', () => {
    const W = normal(0, 0.01, [28, 8], { device, requiresGrad: true });
    W.name = 'W_xh';
    const X = ones([2, 28], { device });
    const H = tanh(matmul(X, W));
    const text = formatTape();
    expect(text).toMatch(/matmul\s+\[2,28\] #\d+, \[28,8\] W_xh\s+->\s+\[2,8\]/);
    expect(text).toMatch(/tanh\s+\[2,8\]/);
    backward(sum(H));
    expect(formatTape()).toBe('(empty tape)');
    W.dispose();
  });

  it('1,000 forward+backward iterations leave live tensors and buffers unchanged', async () => {
    const W = normal(0, 0.1, [6, 4], { device, requiresGrad: true });
    const b = normal(0, 0.1, [4], { device, requiresGrad: true });
    const X = normal(0, 1, [5, 6], { device });
    const y = tensor([0, 1, 2, 3, 0], { dtype: 'int32', device });
    const step = () =>
      scope(() => {
        const loss = crossEntropy(tanh(add(matmul(X, W), b)), y);
        backward(loss);
        noGrad(() => {
          W.axpy_(W.grad!, -0.1);
          b.axpy_(b.grad!, -0.1);
        });
        zeroGrad([W, b]);
      });
    step();
    device.flush();
    const before = memory(device);
    for (let i = 0; i < 1000; i++) step();
    device.flush();
    const after = memory(device);
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.devices[device.kind]!.liveBuffers).toBe(before.devices[device.kind]!.liveBuffers);
    expect(tape.length).toBe(0);
    await W.toArray();
    for (const t of [W, b, X, y]) t.dispose();
  });
});
