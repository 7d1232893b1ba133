// docs/autograd.md walks one backward() of the scratch RNN (d2l §8.5) over 2 time steps with 3 hidden
// units. This test builds that very model and checks that the tape listing, the order in which the
// rules fire and the gradcheck the document shows are what the code produces.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backward, formatTape, gradcheck, tape } from '@tinytape/autograd';
import { RNNModelScratch, getParams, initRnnState, rnn } from '@tinytape/rnn';
import { type Tensor, crossEntropy, manualSeed, oneHot, reference, reshape, tensor, traceKernels, transpose } from '@tinytape/tensor';

const doc = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/autograd.md'), 'utf8');

/** The document's example: vocabulary 4, 3 hidden units, batch 2, 2 time steps, on the reference device. */
function example() {
  manualSeed(0);
  const device = reference();
  const net = new RNNModelScratch(4, 3, device, getParams, initRnnState, rnn);
  const X = tensor([[0, 1], [2, 3]], { dtype: 'int32', device }); // 2 sequences of 2 characters
  const Y = tensor([[1, 2], [3, 0]], { dtype: 'int32', device }); // the characters that follow
  /** The loss as a function of the five parameters, as train_epoch_ch8 computes it. */
  const loss = (...params: Tensor[]): Tensor => {
    const [yHat] = rnn(oneHot(transpose(X), 4), initRnnState(2, 3, device), params);
    return crossEntropy(yHat, reshape(transpose(Y), [-1]));
  };
  return { net, loss };
}

describe('the walkthrough in docs/autograd.md', () => {
  it('shows the tape printTape prints after the forward pass, and the rules in the order backward runs them', () => {
    const { net, loss } = example();
    const l = loss(...net.params);
    const listing = formatTape();
    const fired = [...tape].reverse().map((e) => `${e.index} ${e.op}`).join(', ');
    console.log(`${listing}\n\nrules: ${fired}`);
    expect(doc).toContain(listing);
    expect(doc).toContain(fired);
    backward(l);
    expect(tape.length).toBe(0);
    expect(net.params.every((p) => p.grad !== null)).toBe(true);
  });

  it('passes the gradcheck the document runs', async () => {
    const { net, loss } = example();
    const result = await gradcheck(loss, net.params);
    console.log(`checked ${result.checked} elements, largest |analytic − numeric| ${result.maxAbsError.toExponential(2)}, ok ${result.ok}`);
    expect(result.failures).toEqual([]);
    expect(result.checked).toBe(4 * 3 + 3 * 3 + 3 + 3 * 4 + 4);
    expect(doc).toContain(`checked ${result.checked} elements, largest |analytic − numeric| ${result.maxAbsError.toExponential(2)}, ok true`);
  });

  // Last: it leaves the shared reference device tracing for the rest of this file.
  it('shows the kernel trace TINYTAPE_DEBUG=1 prints for the forward and backward passes', () => {
    const { net, loss } = example();
    const lines: string[] = [];
    traceKernels(reference().backend, true, (line) => lines.push(line));
    backward(loss(...net.params));
    expect(lines[0]).toBe('[tinytape reference] copy [2,2]');
    expect(lines).toContain('[tinytape reference] matmul nt+= [2,4]x[4,3]');
    expect(doc).toContain(lines.join('\n'));
  });
});
