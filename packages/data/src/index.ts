/**
 * `@tinytape/data`: the data pipeline of d2l.ai chapter 8 (v0.17.6) and of its Gluon edition —
 * downloads with SHA-1 checks, text cleaning, tokenization, vocabularies and minibatch iterators.
 */
export { DataError, type DataErrorCode } from './errors.ts';
export { Rng } from './rng.ts';
export { DATA_HUB, lookupDataset, type DataHubEntry } from './hub.ts';
export { DATA_DIR_ENV } from './cache-dir-env.ts';
// Node only (local files, the download cache); in a browser these throw a 'needs-node' DataError.
export { download, resolveCacheDir, resolveDataFile } from '#platform/files';
export type { DownloadOptions } from './download.ts';
export { fetchBytes } from './fetch-bytes.ts';
export type { ProgressSink } from './progress.ts';
export { sha1Hex } from './sha1.ts';
export { isZip, readZipEntry } from './zip.ts';
export { decodeUtf8, splitLines } from './text.ts';
export { readDataset, type DataSourceOptions, type DatasetBytes } from './dataset-source.ts';
export { tokenize, type TokenKind } from './tokenize.ts';
export type { TokenVocab } from './token-vocab.ts';
export { Vocab, countCorpus, type VocabOptions, type TokenInput } from './vocab.ts';
export { CharVocab, type CharVocabOptions } from './char-vocab.ts';
export { cleanLine, readTimeMachine, loadCorpusTimeMachine, type TimeMachineCorpus } from './time-machine.ts';
export type { Batch, SeqIterFn } from './batch.ts';
export { seqDataIterRandom, seqDataIterSequential } from './seq-iter.ts';
export { dataIterRandom, dataIterConsecutive } from './gluon-iter.ts';
export { SeqDataLoader } from './loader.ts';
export { loadDataTimeMachine, type LoadDataTimeMachineOptions } from './load-time-machine.ts';
export {
  loadDataJayLyrics,
  loadDataJayChou,
  type JayLyrics,
  type JayLyricsOptions,
  type LoadDataJayChouOptions,
} from './jay-lyrics.ts';
