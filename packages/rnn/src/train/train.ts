import type { Batch, TokenVocab } from '@tinytape/data';
import { type Device, crossEntropy } from '@tinytape/tensor';
import { type LanguageModel, parameters } from '../model/types.ts';
import { predict } from './predict.ts';
import { type Updater, sgdUpdater } from './sgd.ts';
import { trainEpoch } from './train-epoch.ts';

export interface TrainOptions {
  useRandomIter?: boolean;
  /** Gradient clipping threshold (default 1). */
  clip?: number;
  /** Print predictions every this many epochs (default 10). */
  predPeriod?: number;
  /** Prefixes to continue; the first is printed every `predPeriod` epochs, all at the end. */
  prefixes?: string[];
  /** Characters to generate per prediction (default 50). */
  predLen?: number;
  /** Defaults to d2l's SGD with learning rate `lr`. */
  updater?: Updater;
  /** Go on past a NaN/infinite loss instead of throwing NonFiniteLossError. */
  allowNan?: boolean;
  /** Epoch to start from (for resumed runs; default 0). */
  startEpoch?: number;
  /** Where lines go (default console.log); pass a no-op to silence. */
  log?: (line: string) => void;
  /** Called after each epoch, e.g. to write JSON lines, save checkpoints or update a progress bar. */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
}

export interface EpochRecord {
  epoch: number;
  perplexity: number;
  tokensPerSec: number;
}

export interface TrainResult {
  /** The perplexity curve: one record per epoch (d2l's Animator data). */
  history: EpochRecord[];
  perplexity: number;
  tokensPerSec: number;
  device: string;
  /** Prefix -> generated continuation (prefix included). */
  samples: Record<string, string>;
}

/**
 * d2l's `train_ch8`: trains for `numEpochs`, printing the first prefix's prediction every `predPeriod`
 * epochs, and ends with `perplexity X, Y tokens/sec on DEVICE` and a prediction for every prefix.
 */
export async function train(
  net: LanguageModel,
  trainIter: Iterable<Batch>,
  vocab: TokenVocab,
  lr: number,
  numEpochs: number,
  device: Device,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const prefixes = opts.prefixes ?? ['time traveller', 'traveller'];
  const predLen = opts.predLen ?? 50;
  const predPeriod = opts.predPeriod ?? 10;
  const updater = opts.updater ?? sgdUpdater(parameters(net), lr);
  const history: EpochRecord[] = [];
  let perplexity = Number.NaN;
  let tokensPerSec = Number.NaN;
  for (let epoch = opts.startEpoch ?? 0; epoch < numEpochs; epoch++) {
    [perplexity, tokensPerSec] = await trainEpoch(net, trainIter, crossEntropy, updater, device, opts.useRandomIter ?? false, {
      clip: opts.clip ?? 1,
      allowNan: opts.allowNan,
      epoch: epoch + 1,
    });
    const record = { epoch: epoch + 1, perplexity, tokensPerSec };
    history.push(record);
    if ((epoch + 1) % predPeriod === 0 && prefixes.length > 0) {
      log(`epoch ${epoch + 1}: ${await predict(prefixes[0]!, predLen, net, vocab, device)}`);
    }
    await opts.onEpoch?.(record);
  }
  log(`perplexity ${perplexity.toFixed(1)}, ${tokensPerSec.toFixed(1)} tokens/sec on ${device.kind}`);
  const samples: Record<string, string> = {};
  for (const prefix of prefixes) {
    samples[prefix] = await predict(prefix, predLen, net, vocab, device);
    log(samples[prefix]!);
  }
  return { history, perplexity, tokensPerSec, device: device.kind, samples };
}
