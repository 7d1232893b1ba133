/*
 * One training run inside the worker, in the order the CLI's `tinytape train` does it — seed, data,
 * model, d2l's `train_ch8` — so a run in the page and the same run in Node give the same perplexities.
 * A run can be stopped at an epoch boundary and continued, which gives the same result as not stopping.
 */
import { DataError, type SeqDataLoader, type TokenVocab, loadDataTimeMachine } from '@tinytape/data';
import { type EpochRecord, type LanguageModel, checkpointToBytes, createModel, parameters, sgdUpdater, textBytesProblem, tooShortMessage, train, trainingCheckpoint, type Updater } from '@tinytape/rnn';
import { type Device, manualSeed } from '@tinytape/tensor';
import { type RunConfig, describeModel, modelSpec } from './config.ts';
import type { DeviceReport, FromWorker, RunSummary, TextSource } from './protocol.ts';
import { EpochProfile, tapeOfOneStep } from './teaching.ts';

/** Prefixes d2l continues: the first every 10 epochs, both at the end. */
const PREFIXES = ['time traveller', 'traveller'];
/** d2l's `train_ch8` shows a prediction every 10 epochs. */
const PRED_PERIOD = 10;

/** A training run: the model and everything needed to go on with it. */
export class TrainingRun {
  private readonly history: EpochRecord[] = [];
  private controller: AbortController | null = null;
  private profiled = false;

  private constructor(
    readonly config: RunConfig,
    readonly net: LanguageModel,
    readonly vocab: TokenVocab,
    readonly device: Device,
    private readonly report: DeviceReport,
    private readonly trainIter: SeqDataLoader,
    private readonly updater: Updater,
    private readonly post: (message: FromWorker) => void,
  ) {}

  /**
   * Seeds, loads the text, builds the model and shows its tape; the caller then calls {@link trainTo}.
   *
   * @throws Error with the message the page shows (a missing data file, a bad text, a bad model).
   */
  static async prepare(config: RunConfig, text: TextSource, picked: { device: Device; report: DeviceReport }, post: (m: FromWorker) => void): Promise<TrainingRun> {
    const { device, report } = picked;
    manualSeed(config.seed);
    const { trainIter, vocab, label } = await loadText(config, text);
    post({ type: 'text', label, tokens: trainIter.corpus.length, vocabSize: vocab.length });
    const net = createModel(modelSpec(config, vocab.length), device);
    post({ type: 'tape', ...tapeOfOneStep(net, trainIter.corpus, config.batchSize, config.numSteps, device) });
    return new TrainingRun(config, net, vocab, device, report, trainIter, sgdUpdater(parameters(net), config.lr), post);
  }

  /** Epochs trained so far. */
  get epochs(): number {
    return this.history.length;
  }

  get running(): boolean {
    return this.controller !== null;
  }

  /** Asks the run to end after the epoch under way. */
  stop(): void {
    this.controller?.abort();
  }

  /**
   * Trains until `epochs` epochs are done (or `stop()`), posting each epoch, the sample every 10
   * epochs and the profile of one epoch; ends with a `stopped` or `done` message.
   */
  async trainTo(epochs: number): Promise<void> {
    if (this.controller !== null) return;
    const controller = new AbortController();
    this.controller = controller;
    const profile = new EpochProfile(this.device);
    // The profile covers epoch 2 (epoch 1 also compiles every shader and warms the pools), or epoch 1 of a one-epoch run.
    const profileEpoch = Math.min(2, epochs);
    if (!this.profiled && this.epochs + 1 === profileEpoch) profile.start();
    try {
      const result = await train(this.net, this.trainIter, this.vocab, this.config.lr, epochs, this.device, {
        startEpoch: this.epochs,
        history: [...this.history],
        signal: controller.signal,
        useRandomIter: this.config.iterator === 'random',
        clip: this.config.clip,
        predPeriod: PRED_PERIOD,
        prefixes: PREFIXES,
        updater: this.updater,
        log: (line) => {
          const sample = /^epoch (\d+): (.*)$/s.exec(line);
          if (sample !== null) this.post({ type: 'sample', epoch: Number(sample[1]), text: sample[2]! });
        },
        onEpoch: async (record) => {
          this.history.push(record);
          this.post({ type: 'epoch', epoch: record.epoch, of: epochs, perplexity: record.perplexity, tokensPerSec: record.tokensPerSec });
          if (profile.active && record.epoch === profileEpoch) {
            this.profiled = true;
            this.post({ type: 'profile', epoch: record.epoch, text: profile.finish()! });
          } else if (!this.profiled && record.epoch + 1 === profileEpoch) profile.start();
          // Lets the worker read a waiting message (stop, save) before the next epoch starts.
          await new Promise((resolve) => setTimeout(resolve, 0));
        },
      });
      if (result.interrupted) this.post({ type: 'stopped', epoch: result.epochs });
      else this.post({ type: 'done', summary: this.summary(result.samples[PREFIXES[0]!] ?? '') });
    } finally {
      profile.finish();
      this.controller = null;
    }
  }

  /** The URL contract's summary of the run so far. */
  summary(sample: string): RunSummary {
    return {
      device: this.report.kind,
      adapter: this.report.adapter,
      perplexities: this.history.map((r) => r.perplexity),
      tokensPerSec: this.history.map((r) => r.tokensPerSec),
      sample,
      model: describeModel(this.config),
      epochs: this.epochs,
    };
  }

  /**
   * The model as the bytes of a safetensors checkpoint, with the metadata the CLI's `--save` writes
   * (model configuration and seed, vocabulary, epoch, training state), so `tinytape generate
   * --checkpoint` and PyTorch read it.
   */
  async checkpoint(): Promise<{ bytes: Uint8Array; fileName: string }> {
    const { extra } = await trainingCheckpoint(this.net, this.epochs, this.history, { dataRng: this.trainIter.rng });
    const bytes = await checkpointToBytes(this.net, {
      config: { ...this.net.config(), seed: this.config.seed },
      vocab: [...this.vocab.idxToToken],
      vocabKind: 'vocab',
      epoch: this.epochs,
      extra: { ...extra, page: { ...this.config } },
    });
    const name = `tinytape-${this.config.model}-${this.config.hidden}-epoch${this.epochs}.safetensors`;
    return { bytes, fileName: name };
  }
}

/** The training text as d2l's loader gives it, with the messages the CLI gives for a bad file. */
async function loadText(config: RunConfig, text: TextSource): Promise<{ trainIter: SeqDataLoader; vocab: TokenVocab; label: string }> {
  const options = { maxTokens: config.maxTokens, seed: config.seed, useRandomIter: config.iterator === 'random' };
  if (text.kind === 'bytes') {
    const problem = textBytesProblem(text.bytes, text.name);
    if (problem !== null) throw new Error(problem);
    try {
      const loaded = await loadDataTimeMachine(config.batchSize, config.numSteps, { ...options, bytes: text.bytes });
      return { ...loaded, label: text.name };
    } catch (error) {
      if (error instanceof DataError && error.code === 'too-short') throw new Error(tooShortMessage(text.name, error));
      throw error;
    }
  }
  try {
    const loaded = await loadDataTimeMachine(config.batchSize, config.numSteps, { ...options, url: text.url });
    return { ...loaded, label: 'The Time Machine' };
  } catch (error) {
    if (error instanceof DataError && error.code !== 'too-short') {
      throw new Error(
        `The Time Machine could not be loaded from this page's server: ${error.message} ` +
          `Start the page with pnpm web, which serves timemachine.txt from $TINYTAPE_DATA_DIR or ~/.cache/tinytape ` +
          `(pnpm train --epochs 1 downloads it there once; pnpm web --data-dir DIR names another folder), or pick a text file of your own.`,
      );
    }
    throw error;
  }
}
