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
  /** Epochs already done (for resumed runs; default 0): training runs epochs startEpoch+1 .. numEpochs. */
  startEpoch?: number;
  /** The records of the epochs before `startEpoch` (a resumed run's history), so `history` covers the whole run. */
  history?: EpochRecord[];
  /**
   * Stops the run at the next epoch boundary once aborted (e.g. on Ctrl-C): the epoch under way finishes,
   * `onEpoch` runs for it, and `train` returns with `interrupted: true` and no final samples.
   */
  signal?: AbortSignal;
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
  /** Prefix -> generated continuation (prefix included); empty when interrupted. */
  samples: Record<string, string>;
  /** Epochs completed, counting those before `startEpoch`. */
  epochs: number;
  /** Whether `signal` stopped the run before `numEpochs`. */
  interrupted: boolean;
}

/**
 * d2l's `train_ch8`: trains for `numEpochs`, printing the first prefix's prediction every `predPeriod`
 * epochs, and ends with `perplexity X, Y tokens/sec on DEVICE` and a prediction for every prefix.
 * A resumed run passes `startEpoch` and `history` (see resume.ts); an aborted `signal` ends the run at
 * the next epoch boundary.
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
  const history: EpochRecord[] = [...(opts.history ?? [])];
  const last = history[history.length - 1];
  let perplexity = last?.perplexity ?? Number.NaN;
  let tokensPerSec = last?.tokensPerSec ?? Number.NaN;
  let epochs = opts.startEpoch ?? 0;
  for (let epoch = epochs; epoch < numEpochs; epoch++) {
    if (opts.signal?.aborted) {
      return { history, perplexity, tokensPerSec, device: device.kind, samples: {}, epochs, interrupted: true };
    }
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
    epochs = epoch + 1;
    await opts.onEpoch?.(record);
  }
  log(`perplexity ${perplexity.toFixed(1)}, ${tokensPerSec.toFixed(1)} tokens/sec on ${device.kind}`);
  const samples: Record<string, string> = {};
  for (const prefix of prefixes) {
    samples[prefix] = await predict(prefix, predLen, net, vocab, device);
    log(samples[prefix]!);
  }
  return { history, perplexity, tokensPerSec, device: device.kind, samples, epochs, interrupted: false };
}
