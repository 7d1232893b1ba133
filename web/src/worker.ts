/*
 * The page's training worker: receives the page's requests (protocol.ts), trains, saves, loads and
 * generates, and reports back. One request at a time runs to its first await; a training run yields
 * between epochs, so stop, save and generate are answered while it runs.
 */
import { type TokenVocab } from '@tinytape/data';
import { type LanguageModel, NonFiniteLossError, checkpointFromBytes, modelFromCheckpoint, predict, unknownCharacters, vocabFromCheckpoint } from '@tinytape/rnn';
import type { Device } from '@tinytape/tensor';
import { pickDevice } from './pick-device.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { TrainingRun } from './training.ts';

interface WorkerSelf {
  onmessage: ((event: { data: ToWorker }) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const self = globalThis as unknown as WorkerSelf;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** The current training run, if any. */
let run: TrainingRun | null = null;
/** The epochs under way (null when none), so a new run can wait for the old one to stop. */
let training: Promise<void> | null = null;
/** Stop was pressed while a run was still being prepared (no epoch under way to end). */
let stopBeforeStart = false;
/** The model `generate` continues text with: the last one trained or loaded. */
let generator: { net: LanguageModel; vocab: TokenVocab; device: Device } | null = null;

self.onmessage = (event) => {
  void handle(event.data);
};

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'train':
      return guard('train', async () => {
        if (training !== null) {
          run?.stop();
          await training;
        }
        stopBeforeStart = false;
        const picked = await pickDevice(message.config.device);
        post({ type: 'device', report: picked.report });
        run = null;
        const next = await TrainingRun.prepare(message.config, message.text, picked, post);
        run = next;
        generator = next;
        if (stopBeforeStart) post({ type: 'stopped', epoch: 0 });
        else await trainTo(next, message.config.epochs);
      });
    case 'continue':
      return guard('train', async () => {
        if (run === null) throw new Error('there is no run to continue; press Train');
        if (training !== null) return;
        await trainTo(run, message.epochs);
      });
    case 'stop':
      if (run?.running === true) run.stop();
      else stopBeforeStart = true;
      return;
    case 'save':
      return guard('save', async () => {
        if (run === null) throw new Error('train a model first: there is nothing to save');
        const { bytes, fileName } = await run.checkpoint();
        post({ type: 'checkpoint', bytes, fileName }, [bytes.buffer]);
      });
    case 'load':
      return guard('load', async () => {
        const checkpoint = checkpointFromBytes(message.bytes, message.name);
        const picked = await pickDevice(message.device);
        post({ type: 'device', report: picked.report });
        const net = modelFromCheckpoint(checkpoint, picked.device, message.name);
        generator = { net, vocab: vocabFromCheckpoint(checkpoint.info), device: picked.device };
        const config = checkpoint.info.config;
        post({ type: 'loaded', description: `${message.name}: ${String(config.model)} model, ${String(config.numHiddens)} hidden, vocabulary of ${checkpoint.info.vocab.length}, trained ${checkpoint.info.epoch} epochs` });
      });
    case 'generate':
      return guard('generate', async () => {
        if (generator === null) throw new Error('train a model or load a checkpoint first');
        const { net, vocab, device } = generator;
        const unknown = unknownCharacters(message.prefix, vocab);
        const text = await predict(message.prefix, message.length, net, vocab, device, {
          temperature: message.temperature ?? undefined,
          seed: message.seed,
        });
        const note = unknown.length === 0 ? null : `characters the vocabulary lacks, read as <unk>: ${unknown.map((c) => JSON.stringify(c)).join(', ')} (the text is cleaned to lower-case letters a-z and spaces)`;
        post({ type: 'generated', text, note });
      });
  }
}

/** Trains `target` to `epochs` epochs, remembering the promise while it runs. */
async function trainTo(target: TrainingRun, epochs: number): Promise<void> {
  training = target.trainTo(epochs);
  try {
    await training;
  } finally {
    training = null;
  }
}

/** Runs `work`, turning any failure into an error message for the page. */
async function guard(during: 'train' | 'save' | 'load' | 'generate', work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    post({ type: 'error', during, message: describeError(error) });
  }
}

/** An error as the page says it; the library's divergence message names CLI flags, so it is said in the form's words. */
function describeError(error: unknown): string {
  if (error instanceof NonFiniteLossError) {
    const problem = error.what === 'loss' ? `the loss is ${error.value}` : `the perplexity overflows (mean loss ${error.value})`;
    return `training diverged: ${problem} at epoch ${error.epoch}, batch ${error.batch}; try a lower learning rate or clip θ`;
  }
  return error instanceof Error ? error.message : String(error);
}
