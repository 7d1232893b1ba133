/*
 * The page's teaching panel: the tape one training step records (each op with its input and output
 * shapes), and the per-kernel profile of one epoch.
 */
import { clearTape, formatTape, tape } from '@tinytape/autograd';
import { Rng, seqDataIterSequential } from '@tinytape/data';
import { type Device, type KernelTiming, crossEntropy, formatProfile, scope, startProfile, tensor } from '@tinytape/tensor';
import { type LanguageModel, transposeRows } from '@tinytape/rnn';

/**
 * The tape of one training step's forward pass and loss on the text's first batch, as `formatTape`
 * prints it. Nothing is updated and no random number is drawn (the batch comes from a generator of its
 * own), so the run that follows is the same as without it. The tape is cleared afterwards.
 */
export function tapeOfOneStep(net: LanguageModel, corpus: ArrayLike<number>, batchSize: number, numSteps: number, device: Device): { text: string; ops: number } {
  const first = seqDataIterSequential(corpus, batchSize, numSteps, new Rng(0)).next();
  if (first.done === true) return { text: '(the text gives no batch)', ops: 0 };
  const batch = first.value;
  const X = tensor(batch.X, { shape: [batchSize, numSteps], dtype: 'int32', device });
  const y = tensor(transposeRows(batch.Y, batchSize, numSteps), { dtype: 'int32', device });
  const state = net.beginState(batchSize, device);
  let text = '';
  let ops = 0;
  try {
    // Inside a scope: every intermediate is freed when it closes, and with no survivor the tape lets go too.
    scope(() => {
      const [yHat] = net.forward(X, state);
      crossEntropy(yHat, y);
      ops = tape.length;
      text = formatTape();
    });
  } finally {
    clearTape();
    for (const s of state) s.dispose();
    X.dispose();
    y.dispose();
  }
  return { text, ops };
}

/** Profiles the kernels of one epoch: start it at the epoch's beginning, finish it at its end. */
export class EpochProfile {
  private running: { stop(): KernelTiming[] } | null = null;
  private started = 0;

  constructor(private readonly device: Device) {}

  start(): void {
    this.running = startProfile(this.device);
    this.started = performance.now();
  }

  get active(): boolean {
    return this.running !== null;
  }

  /** Ends the profile and formats it; null when none was running. */
  finish(): string | null {
    if (this.running === null) return null;
    const timings = this.running.stop();
    this.running = null;
    const table = formatProfile(timings, performance.now() - this.started);
    // On WebGPU a kernel call only records commands; the GPU runs them later.
    return this.device.kind === 'webgpu' ? `${table}\n(WebGPU: host time to issue each kernel, not GPU time)` : table;
  }
}
