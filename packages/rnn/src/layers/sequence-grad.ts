/*
 * Backpropagation through time for `recurrentSequence` (sequence.ts), one rule per cell.
 *
 * Each rule first recomputes the gates of all steps at once from the saved states (one matmul over
 * [numSteps*batch, hidden] instead of numSteps small ones) and turns them into coefficient tensors, so
 * the loop over time keeps only the work that depends on the step after it: add the carried gradient,
 * scale by the step's coefficients, multiply by W_hh. For the GRU and LSTM the elementwise part of a step
 * is one kernel (kernels/cell-grads.ts) that reads step t of the whole-sequence tensors in place, so a
 * step costs that kernel and the W_hh matmul instead of a handful of small ops. Everything else — the input projection's
 * gradient, W_hh's (one matmul over all steps), b_hh's — is formed once after the loop.
 *
 * Notation: states are indexed by time t; `prev` holds the state each step started from (h0 for the
 * first step processed, which is the last one in time for a reverse run). σ' is written in terms of
 * σ's output, tanh' in terms of tanh's.
 */
import { registerGradient } from '@tinytape/autograd';
import { type Tensor, add, concat, matmul, matmulAccumulate_, mul, reshape, sigmoid, slice, stack, sub, sum, tanh, unaryOp, unsqueeze, zeros } from '@tinytape/tensor';
import { gruStepGrad, lstmStepGrad } from '../kernels/cell-grads.ts';
import { timeStep as step } from './cells.ts';
import type { SequenceAttrs } from './sequence.ts';

const dTanh = (y: Tensor) => unaryOp('oneMinusSquare', y);
const dSigmoid = (y: Tensor) => unaryOp('sigmoidGradFromOutput', y);

/** The state each step started from, [numSteps, batch, hidden], given the states it ended with. */
function previousStates(states: Tensor, initial: Tensor, reverse: boolean): Tensor {
  const numSteps = states.shape[0]!;
  const first = unsqueeze(initial, 0);
  if (numSteps === 1) return first;
  return reverse ? concat([slice(states, 0, 1), first], 0) : concat([first, slice(states, 0, 0, numSteps - 1)], 0);
}

/** The times of the steps in the order backward visits them: the processing order, reversed. */
function backwardOrder(numSteps: number, reverse: boolean): number[] {
  return Array.from({ length: numSteps }, (_, s) => (reverse ? s : numSteps - 1 - s));
}

registerGradient('recurrentSequence', (g, { inputs, output, attrs }) => {
  const { mode, nonlinearity, reverse } = attrs as unknown as SequenceAttrs;
  const [xp, wHh, h0, extra] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
  const [numSteps, batch] = output.shape as [number, number, number];
  const hidden = h0.shape[1]!;
  const rows = numSteps * batch;
  const order = backwardOrder(numSteps, reverse);
  const flat = (x: Tensor) => reshape(x, [rows, x.shape[x.rank - 1]!]);

  if (mode === 'rnn') {
    // h = act(a): da = dh ⊙ act'(a), and act' is a function of h for both tanh and relu.
    const derivative = nonlinearity === 'relu' ? unaryOp('step', output) : dTanh(output);
    const das = new Array<Tensor>(numSteps);
    let later: Tensor | null = null;
    for (const t of order) {
      // dh = g_t + da_later·W_hh: step() copies g_t, and the matmul adds the carried product into it.
      const dh = step(g, t);
      if (later !== null) matmulAccumulate_(dh, later, wHh);
      das[t] = mul(dh, step(derivative, t));
      later = das[t]!;
    }
    const dA = flat(stack(das));
    const prev = flat(previousStates(output, h0, reverse));
    return [dA, matmul(dA, prev, { transA: true }), h0.requiresGrad ? matmul(later!, wHh) : null];
  }

  if (mode === 'gru') {
    const bHh = extra!;
    const prev = flat(previousStates(output, h0, reverse));
    const hp = add(matmul(prev, wHh, { transB: true }), bHh);
    const rz = sigmoid(add(slice(xp, 1, 0, 2 * hidden), slice(hp, 1, 0, 2 * hidden)));
    const r = slice(rz, 1, 0, hidden);
    const z = slice(rz, 1, hidden);
    const hpN = slice(hp, 1, 2 * hidden);
    const n = tanh(add(slice(xp, 1, 2 * hidden), mul(r, hpN)));
    // h' = n + z ⊙ (h − n). With dh' given: d(pre-n) = dh' ⊙ A, d(pre-r) = dh' ⊙ Cr, d(pre-z) = dh' ⊙ Cz,
    // and the recurrent product's n block gets d(pre-n) ⊙ r = dh' ⊙ Cn.
    const A = mul(sub(1, z), dTanh(n));
    const Cr = mul(mul(A, hpN), dSigmoid(r));
    const Cz = mul(sub(prev, n), dSigmoid(z));
    const Cn = mul(A, r);
    const coef = reshape(concat([Cr, Cz, Cn, A], 1), [numSteps, batch, 4, hidden]);
    const zT = reshape(z, [numSteps, batch, hidden]);
    // Per step one kernel (dh = g_t + carry; the step's rows of dHp = dh ⊙ [Cr, Cz, Cn] and
    // dXp = dh ⊙ [Cr, Cz, A]; dh ⊙ z_t) and the recurrent product, accumulated into dh ⊙ z_t:
    // carry = dh ⊙ z_t + dHp·W_hh.
    const allHp = zeros([numSteps, batch, 3 * hidden], { device: g.device });
    const allXp = zeros([numSteps, batch, 3 * hidden], { device: g.device });
    let carry: Tensor | null = null;
    for (const t of order) {
      const { dHp, dhz } = gruStepGrad(t, g, coef, zT, carry, allHp, allXp);
      carry = matmulAccumulate_(dhz, dHp, wHh);
    }
    const dHp = reshape(allHp, [rows, 3 * hidden]);
    const dXp = reshape(allXp, [rows, 3 * hidden]);
    return [dXp, matmul(dHp, prev, { transA: true }), carry, sum(dHp, 0)];
  }

  // LSTM: the output holds h and c side by side; c0 is the fifth input.
  const c0 = extra!;
  const hs = slice(output, 2, 0, hidden);
  const cs = slice(output, 2, hidden);
  const prevH = flat(previousStates(hs, h0, reverse));
  const prevC = flat(previousStates(cs, c0, reverse));
  const pre = add(xp, matmul(prevH, wHh, { transB: true }));
  const ifo = sigmoid(concat([slice(pre, 1, 0, 2 * hidden), slice(pre, 1, 3 * hidden)], 1));
  const i = slice(ifo, 1, 0, hidden);
  const f = slice(ifo, 1, hidden, 2 * hidden);
  const o = slice(ifo, 1, 2 * hidden);
  const gg = tanh(slice(pre, 1, 2 * hidden, 3 * hidden));
  const tc = tanh(flat(cs));
  // h' = o ⊙ tanh(c'), c' = f ⊙ c + i ⊙ g. The cell gradient at a step is dc' = (carried) + dh' ⊙ K1;
  // the gate pre-activations get dc' ⊙ [Ki, Kf, Kg] and dh' ⊙ Ko.
  const K1 = reshape(mul(o, dTanh(tc)), [numSteps, batch, hidden]);
  const Kifg = reshape(concat([mul(gg, dSigmoid(i)), mul(prevC, dSigmoid(f)), mul(i, dTanh(gg))], 1), [numSteps, batch, 3, hidden]);
  const Ko = reshape(mul(tc, dSigmoid(o)), [numSteps, batch, hidden]);
  const fT = reshape(f, [numSteps, batch, hidden]);
  // Every step's coefficients side by side, [numSteps, batch, 6, hidden], for the step kernel.
  const asBlock = (x: Tensor) => reshape(x, [numSteps, batch, 1, hidden]);
  const coef = concat([Kifg, asBlock(Ko), asBlock(K1), asBlock(fT)], 2);
  const gates = (dh: Tensor, dc: Tensor, kifg: Tensor, ko: Tensor, n: number) =>
    concat([reshape(mul(unsqueeze(dc, 1), kifg), [n, 3 * hidden]), mul(dh, ko)], 1);
  // Per step one kernel (dh and dc into their rows of dhs and dcs, the gate gradient row, the c carry
  // dc ⊙ f_t) and the recurrent product of the gate row with W_hh, the h carry.
  const dhs = zeros([numSteps, batch, hidden], { device: g.device });
  const dcs = zeros([numSteps, batch, hidden], { device: g.device });
  let carry: { h: Tensor; c: Tensor } | null = null;
  for (const t of order) {
    const back = lstmStepGrad(t, g, coef, carry, dhs, dcs);
    carry = { h: matmul(back.gates, wHh), c: back.nextC };
  }
  const dPre = gates(flat(dhs), flat(dcs), reshape(Kifg, [rows, 3, hidden]), flat(Ko), rows);
  return [dPre, matmul(dPre, prevH, { transA: true }), carry!.h, carry!.c];
});
