import { gatherBatch, type Batch } from './batch.ts';
import { Rng } from './rng.ts';
import { checkIterArgs } from './validation.ts';

/**
 * Random sampling minibatches, d2l v0.17.6's `seq_data_iter_random`: drop a random offset of 0 to
 * numSteps-1 tokens, cut the rest into non-overlapping subsequences of numSteps tokens (the last token
 * is kept back as a target), shuffle the subsequence starts, and emit them batchSize at a time.
 * Every subsequence start appears once per epoch; leftovers that do not fill a batch are dropped.
 *
 * The corpus must hold at least `batchSize*numSteps + numSteps` tokens so that even the largest offset
 * leaves one full batch. Arguments are checked and the randomness drawn when this is called.
 *
 * @param rng - source of the offset and the shuffle; default: a generator seeded from entropy.
 * @throws DataError for a non-positive or non-integer batchSize/numSteps or a too-short corpus.
 */
export function seqDataIterRandom(
  corpus: ArrayLike<number>,
  batchSize: number,
  numSteps: number,
  rng: Rng = new Rng(),
): Generator<Batch, void, undefined> {
  checkIterArgs('seqDataIterRandom', corpus.length, batchSize, numSteps, (b, n) => b * n + n, 'batchSize*numSteps + numSteps');
  const offset = rng.randint(0, numSteps - 1);
  // Subsequences start at offset, offset+numSteps, ...; each needs one more token after it for Y.
  const numSubseqs = Math.floor((corpus.length - offset - 1) / numSteps);
  const starts = rng.shuffle(Array.from({ length: numSubseqs }, (_, k) => offset + k * numSteps));
  const numBatches = Math.floor(numSubseqs / batchSize);
  return (function* () {
    for (let i = 0; i < batchSize * numBatches; i += batchSize) {
      yield gatherBatch(corpus, starts.slice(i, i + batchSize), numSteps);
    }
  })();
}

/**
 * Sequential partitioning minibatches, d2l v0.17.6's `seq_data_iter_sequential`: drop a random offset of
 * 0 to numSteps tokens (inclusive), lay the usable tokens out as batchSize rows of equal length, and walk
 * along the rows numSteps columns at a time. Row i of batch k+1 continues row i of batch k, so a model
 * can carry its hidden state from batch to batch.
 *
 * The corpus must hold at least `batchSize*numSteps + numSteps + 1` tokens so that even the largest
 * offset leaves one full batch. Arguments are checked and the offset drawn when this is called.
 *
 * @param rng - source of the offset; default: a generator seeded from entropy.
 * @throws DataError for a non-positive or non-integer batchSize/numSteps or a too-short corpus.
 */
export function seqDataIterSequential(
  corpus: ArrayLike<number>,
  batchSize: number,
  numSteps: number,
  rng: Rng = new Rng(),
): Generator<Batch, void, undefined> {
  checkIterArgs(
    'seqDataIterSequential',
    corpus.length,
    batchSize,
    numSteps,
    (b, n) => b * n + n + 1,
    'batchSize*numSteps + numSteps + 1',
  );
  const offset = rng.randint(0, numSteps);
  // Tokens usable as X, rounded down to fill batchSize equal rows; Y is the same span one token on.
  const numTokens = Math.floor((corpus.length - offset - 1) / batchSize) * batchSize;
  const rowLength = numTokens / batchSize;
  const numBatches = Math.floor(rowLength / numSteps);
  return (function* () {
    for (let i = 0; i < numSteps * numBatches; i += numSteps) {
      const starts = Array.from({ length: batchSize }, (_, r) => offset + r * rowLength + i);
      yield gatherBatch(corpus, starts, numSteps);
    }
  })();
}
