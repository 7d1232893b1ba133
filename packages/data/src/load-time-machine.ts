import { SeqDataLoader, pickRng } from './loader.ts';
import type { Rng } from './rng.ts';
import { seqDataIterRandom, seqDataIterSequential } from './seq-iter.ts';
import type { DataSourceOptions } from './dataset-source.ts';
import { loadCorpusTimeMachine } from './time-machine.ts';
import { checkPositiveInt } from './validation.ts';
import type { Vocab } from './vocab.ts';

/** Options of {@link loadDataTimeMachine}. */
export interface LoadDataTimeMachineOptions extends DataSourceOptions {
  /** Random sampling instead of sequential partitioning. Default false. */
  useRandomIter?: boolean;
  /** Keep only the first this many character tokens (d2l trains on 10,000); <= 0 keeps all. */
  maxTokens?: number;
  /** Seed of the loader's generator (ignored when `rng` is given); omit for an entropy seed. */
  seed?: number;
  /** The loader's generator, e.g. one restored from a checkpoint. */
  rng?: Rng;
}

/**
 * Minibatch loader and vocabulary for *The Time Machine* (d2l's `load_data_time_machine`).
 * `trainIter` is re-iterable: each `for...of` is one epoch with a fresh random offset.
 *
 * @throws DataError for bad batchSize/numSteps (checked before any file is read), a corpus too short
 *   for them, or any error of {@link readTimeMachine}.
 */
export async function loadDataTimeMachine(
  batchSize: number,
  numSteps: number,
  options: LoadDataTimeMachineOptions = {},
): Promise<{ trainIter: SeqDataLoader; vocab: Vocab }> {
  const { useRandomIter = false, maxTokens = 10_000, seed, rng, ...source } = options;
  checkPositiveInt('loadDataTimeMachine', 'batchSize', batchSize);
  checkPositiveInt('loadDataTimeMachine', 'numSteps', numSteps);
  const { corpus, vocab } = await loadCorpusTimeMachine(maxTokens, source);
  const iterFn = useRandomIter ? seqDataIterRandom : seqDataIterSequential;
  return { trainIter: new SeqDataLoader(corpus, batchSize, numSteps, iterFn, pickRng(rng, seed)), vocab };
}
