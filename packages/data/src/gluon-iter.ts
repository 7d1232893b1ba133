import { gatherBatch, type Batch } from './batch.ts';
import { Rng } from './rng.ts';
import { checkIterArgs } from './validation.ts';

/**
 * Random sampling as in the Gluon edition (d2l-zh, 2018) `data_iter_random`: no random offset; the
 * corpus is cut into `(len-1)//numSteps` examples starting at multiples of numSteps, their order is
 * shuffled, and each batch takes the next batchSize of them. Y is X moved one token on.
 *
 * Needs at least `batchSize*numSteps + 1` tokens for one batch.
 *
 * @param rng - source of the shuffle; default: a generator seeded from entropy.
 * @throws DataError for a non-positive or non-integer batchSize/numSteps or a too-short corpus.
 */
export function dataIterRandom(
  corpusIndices: ArrayLike<number>,
  batchSize: number,
  numSteps: number,
  rng: Rng = new Rng(),
): Generator<Batch, void, undefined> {
  checkIterArgs('dataIterRandom', corpusIndices.length, batchSize, numSteps, (b, n) => b * n + 1, 'batchSize*numSteps + 1');
  const numExamples = Math.floor((corpusIndices.length - 1) / numSteps);
  const epochSize = Math.floor(numExamples / batchSize);
  const exampleIndices = rng.shuffle(Array.from({ length: numExamples }, (_, k) => k));
  return (function* () {
    for (let i = 0; i < epochSize; i++) {
      const batch = exampleIndices.slice(i * batchSize, (i + 1) * batchSize);
      yield gatherBatch(corpusIndices, batch.map((j) => j * numSteps), numSteps);
    }
  })();
}

/**
 * Consecutive sampling as in the Gluon edition (d2l-zh, 2018) `data_iter_consecutive`: no random
 * offset; the first `batchSize*batchLen` tokens (batchLen = len//batchSize) are laid out as batchSize
 * rows, and batch i takes columns `[i*numSteps, (i+1)*numSteps)`, Y one column further on. Row r of
 * batch i+1 continues row r of batch i.
 *
 * Needs at least `batchSize*(numSteps + 1)` tokens for one batch.
 *
 * @param _rng - unused (this iterator is deterministic); accepted so both Gluon iterators share a signature.
 * @throws DataError for a non-positive or non-integer batchSize/numSteps or a too-short corpus.
 */
export function dataIterConsecutive(
  corpusIndices: ArrayLike<number>,
  batchSize: number,
  numSteps: number,
  _rng?: Rng,
): Generator<Batch, void, undefined> {
  checkIterArgs(
    'dataIterConsecutive',
    corpusIndices.length,
    batchSize,
    numSteps,
    (b, n) => b * (n + 1),
    'batchSize*(numSteps + 1)',
  );
  const batchLen = Math.floor(corpusIndices.length / batchSize);
  // One column is kept back so the last batch's Y stays inside its row.
  const epochSize = Math.floor((batchLen - 1) / numSteps);
  return (function* () {
    for (let i = 0; i < epochSize; i++) {
      const starts = Array.from({ length: batchSize }, (_, r) => r * batchLen + i * numSteps);
      yield gatherBatch(corpusIndices, starts, numSteps);
    }
  })();
}
