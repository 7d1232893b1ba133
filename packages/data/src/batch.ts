import type { Rng } from './rng.ts';

/** One minibatch: inputs and next-token targets, both row-major `[batchSize, numSteps]`. */
export interface Batch {
  /** Input token indices. */
  readonly X: Int32Array;
  /** Target token indices: each X entry's following token in the corpus. */
  readonly Y: Int32Array;
  /** `[batchSize, numSteps]`. */
  readonly shape: [number, number];
}

/**
 * The shape shared by every minibatch iterator of this package: one call is one epoch. Calls draw
 * their randomness (if any) from `rng` and check their arguments before returning the generator.
 */
export type SeqIterFn = (
  corpus: ArrayLike<number>,
  batchSize: number,
  numSteps: number,
  rng?: Rng,
) => Generator<Batch, void, undefined>;

/**
 * Builds a batch from row start positions: row r of X is `corpus[starts[r] .. starts[r]+numSteps)`,
 * row r of Y the same window moved one token on.
 */
export function gatherBatch(corpus: ArrayLike<number>, starts: readonly number[], numSteps: number): Batch {
  const batchSize = starts.length;
  const X = new Int32Array(batchSize * numSteps);
  const Y = new Int32Array(batchSize * numSteps);
  for (let r = 0; r < batchSize; r++) {
    const start = starts[r]!;
    const row = r * numSteps;
    for (let t = 0; t < numSteps; t++) {
      X[row + t] = corpus[start + t]!;
      Y[row + t] = corpus[start + t + 1]!;
    }
  }
  return { X, Y, shape: [batchSize, numSteps] };
}

