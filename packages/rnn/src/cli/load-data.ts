import { open, stat } from 'node:fs/promises';
import { DataError, type SeqDataLoader, type TokenVocab, loadDataJayChou, loadDataTimeMachine } from '@tinytape/data';
import { CliError } from '../io/errors.ts';
import { binaryProblem, MAX_TEXT_BYTES, SNIFF_BYTES, textSizeProblem, tooShortMessage } from '../text-checks.ts';
import { unknownCharacters } from '../train/predict.ts';
import { type TrainConfig, TRAIN_DEFAULTS } from './config.ts';
import { quote } from './values.ts';

/** Largest `--data` file read (the limit and its reason live in text-checks.ts, shared with the page). */
export { MAX_TEXT_BYTES };

/** The training data a config names: a registered data set, or a local text file cleaned like The Time Machine. */
export async function loadTrainingData(
  config: TrainConfig,
): Promise<{ trainIter: SeqDataLoader; vocab: TokenVocab; vocabKind: 'vocab' | 'char' }> {
  const common = { useRandomIter: config.randomIter, seed: config.seed, dataDir: config.dataDir };
  if (config.data.kind === 'dataset' && config.data.name === 'jaychou') {
    // --max-tokens counts characters here; its default, 10,000, is the Gluon edition's own cut.
    const numChars = config.maxTokens > 0 ? config.maxTokens : Infinity;
    const { trainIter, vocab } = await loadDataJayChou(config.batchSize, config.numSteps, { ...common, numChars });
    return { trainIter, vocab, vocabKind: 'char' };
  }
  const path = config.data.kind === 'file' ? config.data.path : undefined;
  if (path !== undefined) await checkTextFile(path);
  try {
    const { trainIter, vocab } = await loadDataTimeMachine(config.batchSize, config.numSteps, {
      ...common,
      maxTokens: config.maxTokens,
      path,
    });
    return { trainIter, vocab, vocabKind: 'vocab' };
  } catch (error) {
    if (path !== undefined && error instanceof DataError && error.code === 'too-short') {
      throw new CliError(tooShortMessage(`--data ${path}`, error));
    }
    throw error;
  }
}

/**
 * Refuses a `--data` file that cannot be a training text — empty, binary or too large to hold — before
 * the pipeline reads it, with a message that says which. A missing file is left to the pipeline.
 *
 * @throws {@link CliError} naming the file and the problem.
 */
export async function checkTextFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) return;
  const label = `--data ${path}`;
  const sizeProblem = textSizeProblem(info.size, label);
  if (sizeProblem !== null) throw new CliError(sizeProblem);
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(Math.min(SNIFF_BYTES, info.size));
    await handle.read(head, 0, head.length, 0);
    const binary = binaryProblem(head, label);
    if (binary !== null) throw new CliError(binary);
  } finally {
    await handle.close();
  }
}

/**
 * Refuses `--prefixes` with characters the training text's vocabulary lacks: each would be fed to the
 * model as `<unk>`, which it has hardly seen, and the printed continuations would mislead. The default
 * prefixes are left alone, so training on a text without their letters still works.
 *
 * @throws {@link CliError} listing the unknown characters.
 */
export function checkTrainPrefixes(config: Pick<TrainConfig, 'prefixes'>, vocab: TokenVocab, vocabKind: 'vocab' | 'char'): void {
  const defaults: readonly string[] = TRAIN_DEFAULTS.prefixes;
  if (config.prefixes.length === defaults.length && config.prefixes.every((p, i) => p === defaults[i])) return;
  for (const prefix of config.prefixes) {
    const unknown = unknownCharacters(prefix, vocab);
    if (unknown.length > 0) {
      throw new CliError(`--prefixes: ${quote(prefix)} has characters the training text's vocabulary lacks: ${unknown.map(quote).join(', ')}${cleaningHint(vocabKind)}`);
    }
  }
}

/** Why a character may be missing: the d2l pipeline keeps lower-case letters and spaces only. */
export function cleaningHint(vocabKind: 'vocab' | 'char'): string {
  return vocabKind === 'vocab' ? ' (the text is cleaned to lower-case letters a-z and spaces)' : '';
}
