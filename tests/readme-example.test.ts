// The README's first example, kept runnable: if the API it shows changes, this fails.
import { describe, expect, it } from 'vitest';
import { backward, formatTape } from '@tinytape/autograd';
import { cpu, crossEntropy, matmul, normal, tanh, tensor } from '@tinytape/tensor';

describe('README example', () => {
  it('builds a graph, prints its tape and gets a gradient of W’s shape', async () => {
    const device = cpu();
    const W = normal(0, 0.01, [28, 8], { device, requiresGrad: true });
    W.name = 'W';
    const X = tensor([[0, 1, 2]], { dtype: 'int32', device }).oneHot(28).reshape([3, 28]);
    const loss = crossEntropy(tanh(matmul(X, W)), tensor([1, 2, 3], { dtype: 'int32', device }));
    const text = formatTape();
    expect(text.split('\n').map((l) => l.trim().split(/\s+/)[1])).toEqual(['matmul', 'tanh', 'crossEntropy']);
    backward(loss);
    const grad = await W.grad!.toArray();
    expect(W.grad!.shape).toEqual([28, 8]);
    // Only rows 0..2 of W met a non-zero input, so only they get gradient.
    expect(Array.from(grad.slice(3 * 8)).every((g) => g === 0)).toBe(true);
    expect(Array.from(grad.slice(0, 3 * 8)).some((g) => g !== 0)).toBe(true);
  });
});
