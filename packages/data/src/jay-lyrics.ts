import { CharVocab } from './char-vocab.ts';
import { dataIterConsecutive, dataIterRandom } from './gluon-iter.ts';
import { lookupDataset } from './hub.ts';
import { SeqDataLoader, pickRng } from './loader.ts';
import type { Rng } from './rng.ts';
import { readDataset, type DataSourceOptions } from './dataset-source.ts';
import { decodeUtf8 } from './text.ts';
import { checkPositiveInt } from './validation.ts';
import { isZip, readZipEntry } from './zip.ts';

/** What {@link loadDataJayLyrics} returns, named as in the Gluon edition. */
export interface JayLyrics {
  /** Character indices of the first 10,000 characters. */
  corpusIndices: Int32Array;
  /** Index of each character. */
  charToIdx: Map<string, number>;
  /** Characters by index, in order of first appearance. */
  idxToChar: string[];
  /** Number of distinct characters (1,027 for the published file). */
  vocabSize: number;
}

/** Options of {@link loadDataJayLyrics}. */
export interface JayLyricsOptions extends DataSourceOptions {
  /** How many characters (code points) to keep. Default 10,000, as in the book. */
  numChars?: number;
}

/** The lyrics text: the registry's zip entry, or a plain UTF-8 file when `path` names one. */
async function readLyricsText(options: DataSourceOptions): Promise<string> {
  const caller = 'loadDataJayLyrics';
  const { bytes, label } = await readDataset('jaychou', options, caller);
  // Sniff the content rather than the extension, so an unzipped copy works under any name.
  if (!isZip(bytes)) return decodeUtf8(bytes, label);
  const entryName = lookupDataset('jaychou').zipEntry!;
  return decodeUtf8(await readZipEntry(bytes, entryName, label), `${label}:${entryName}`);
}

/**
 * The Jay Chou lyrics corpus of the Gluon edition (d2l-zh, 2018, `load_data_jay_lyrics`): line breaks
 * (`\n` and `\r` alike) become spaces, the first 10,000 characters are kept, and the vocabulary is their
 * distinct characters: 1,027 for the published file. The book built that list from a Python set, whose
 * order is arbitrary; here the order is first appearance, so indices are the same on every run.
 * Characters are counted as code points (as Python does), not UTF-16 units.
 *
 * @throws DataError `missing-file`, `not-utf8`, `bad-zip`, or a download error.
 */
export async function loadDataJayLyrics(options: JayLyricsOptions = {}): Promise<JayLyrics> {
  const { numChars = 10_000, ...source } = options;
  const text = (await readLyricsText(source)).replace(/[\n\r]/g, ' ');
  const chars = Array.from(text).slice(0, numChars);
  const idxToChar = [...new Set(chars)];
  const charToIdx = new Map(idxToChar.map((c, i) => [c, i] as const));
  const corpusIndices = Int32Array.from(chars, (c) => charToIdx.get(c)!);
  return { corpusIndices, charToIdx, idxToChar, vocabSize: idxToChar.length };
}

/** Options of {@link loadDataJayChou}. */
export interface LoadDataJayChouOptions extends JayLyricsOptions {
  /** Random sampling ({@link dataIterRandom}) instead of consecutive ({@link dataIterConsecutive}). Default false. */
  useRandomIter?: boolean;
  /** Seed of the loader's generator (ignored when `rng` is given); omit for an entropy seed. */
  seed?: number;
  /** The loader's generator, e.g. one restored from a checkpoint. */
  rng?: Rng;
}

/**
 * Re-iterable loader and vocabulary for the Jay Chou lyrics, the Gluon edition's counterpart of
 * {@link loadDataTimeMachine}. The vocabulary is a {@link CharVocab} with no `<unk>` (the Gluon edition
 * had none); unknown characters, e.g. in a prediction prefix, map to the index of `' '` (space), which
 * the corpus always contains because line breaks became spaces.
 *
 * @throws DataError for bad batchSize/numSteps, a corpus too short for them, or any error of
 *   {@link loadDataJayLyrics}.
 */
export async function loadDataJayChou(
  batchSize: number,
  numSteps: number,
  options: LoadDataJayChouOptions = {},
): Promise<{ trainIter: SeqDataLoader; vocab: CharVocab }> {
  const { useRandomIter = false, seed, rng, ...source } = options;
  checkPositiveInt('loadDataJayChou', 'batchSize', batchSize);
  checkPositiveInt('loadDataJayChou', 'numSteps', numSteps);
  const { corpusIndices, idxToChar } = await loadDataJayLyrics(source);
  // A corpus without any space (only possible for a user's own file) gets no fallback: get() throws.
  const vocab = new CharVocab(idxToChar, { fallback: idxToChar.includes(' ') ? ' ' : null });
  const iterFn = useRandomIter ? dataIterRandom : dataIterConsecutive;
  return { trainIter: new SeqDataLoader(corpusIndices, batchSize, numSteps, iterFn, pickRng(rng, seed)), vocab };
}
