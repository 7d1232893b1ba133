import { type Batch, type TokenVocab, loadDataJayChou, loadDataTimeMachine } from '@tinytape/data';
import type { TrainConfig } from './config.ts';

/** The training data a config names: a registered data set, or a local text file cleaned like The Time Machine. */
export async function loadTrainingData(
  config: TrainConfig,
): Promise<{ trainIter: Iterable<Batch> & { rng: { getState(): unknown } }; vocab: TokenVocab; vocabKind: 'vocab' | 'char' }> {
  const common = { useRandomIter: config.randomIter, seed: config.seed, dataDir: config.dataDir };
  if (config.data.kind === 'dataset' && config.data.name === 'jaychou') {
    const { trainIter, vocab } = await loadDataJayChou(config.batchSize, config.numSteps, common);
    return { trainIter, vocab, vocabKind: 'char' };
  }
  const path = config.data.kind === 'file' ? config.data.path : undefined;
  const { trainIter, vocab } = await loadDataTimeMachine(config.batchSize, config.numSteps, {
    ...common,
    maxTokens: config.maxTokens,
    path,
  });
  return { trainIter, vocab, vocabKind: 'vocab' };
}
