/**
 * Builds tinytape's model for a training config. The scratch RNN (d2l §8.5) is always there; the
 * concise RNN (d2l §8.6: `RNNModel` around `nn.RNN`, 256 hidden) is the hook below.
 */
import * as rnnPackage from '@tinytape/rnn';
import { type LanguageModel, RNNModelScratch, getParams, initRnnState, rnn } from '@tinytape/rnn';
import { type Device, manualSeed } from '@tinytape/tensor';
import type { TrainConfig } from './plan.ts';

/** A model could not be built: the row is reported as skipped with this reason. */
export class ModelUnavailable extends Error {}

/**
 * The concise RNN, built through `createModel({ model: 'rnn', ... })` of @tinytape/rnn.
 *
 * HOOK: the concise model is being added to @tinytape/rnn. It is looked up at run time rather than
 * imported by name so this package builds and type-checks both before and after it lands; until
 * `createModel` accepts `{ model: 'rnn' }`, the concise rows say "skipped" with the reason. Once it
 * has landed, replace this lookup with a plain `import { createModel } from '@tinytape/rnn'`.
 * Its parameters follow PyTorch's U(±1/√H) initialisation, not the scratch model's N(0, 0.01²), so
 * peers are not run on it (their perplexity could not be compared step for step).
 */
function buildConcise(config: TrainConfig, vocabSize: number, device: Device): LanguageModel {
  const create = (rnnPackage as Record<string, unknown>)['createModel'];
  if (typeof create !== 'function') throw new ModelUnavailable('concise RNNModel is not in @tinytape/rnn yet (no createModel export)');
  const spec = { model: 'rnn', vocabSize, numHiddens: config.hidden, numLayers: 1, bidirectional: false };
  try {
    return (create as (spec: object, device: Device) => LanguageModel)(spec, device);
  } catch (error) {
    throw new ModelUnavailable(`concise RNNModel could not be built: ${(error as Error).message}`);
  }
}

/**
 * A freshly initialised model for `config` on `device`, seeded so that every device (and the peers,
 * through workload.ts's `scratchInit`) starts from the same numbers.
 */
export function buildModel(config: TrainConfig, vocabSize: number, device: Device, seed: number): LanguageModel {
  manualSeed(seed);
  switch (config.model) {
    case 'scratch-rnn':
      return new RNNModelScratch(vocabSize, config.hidden, device, getParams, initRnnState, rnn);
    case 'concise-rnn':
      return buildConcise(config, vocabSize, device);
  }
}
