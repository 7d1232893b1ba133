import type { Batch, SeqIterFn } from './batch.ts';
import { Rng } from './rng.ts';

/**
 * A re-iterable minibatch loader (d2l's `SeqDataLoader`): each `[Symbol.iterator]()` call, i.e. each
 * `for (const batch of loader)`, is a new epoch with fresh randomness from the loader's generator.
 * Save `rng.getState()` with a checkpoint to resume with the same batches.
 */
export class SeqDataLoader implements Iterable<Batch> {
  /** The generator every epoch draws from. */
  readonly rng: Rng;

  /**
   * @param corpus - token indices.
   * @param iterFn - one epoch's batches, e.g. {@link seqDataIterRandom} or {@link seqDataIterSequential}.
   * @throws DataError from `iterFn` when the arguments cannot give a single batch.
   */
  constructor(
    readonly corpus: ArrayLike<number>,
    readonly batchSize: number,
    readonly numSteps: number,
    private readonly iterFn: SeqIterFn,
    rng: Rng = new Rng(),
  ) {
    this.rng = rng;
    // Starting one epoch validates the arguments now rather than at the first training step; a
    // scratch generator leaves the real one's sequence untouched.
    iterFn(corpus, batchSize, numSteps, new Rng(0));
  }

  /** Starts a new epoch. */
  [Symbol.iterator](): Iterator<Batch> {
    return this.iterFn(this.corpus, this.batchSize, this.numSteps, this.rng);
  }
}

/** The generator a loader uses: an explicit one wins, else one seeded with `seed` (or from entropy). */
export function pickRng(rng: Rng | undefined, seed: number | undefined): Rng {
  return rng ?? new Rng(seed);
}
