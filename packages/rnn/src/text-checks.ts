/*
 * What makes a file unfit to be a training text — empty, too large to hold, binary, not UTF-8, or left
 * too short by d2l's cleaning — as the one-line messages users see. Platform-neutral: the CLI checks a
 * `--data` file with them (reading it with node:fs), the browser page checks a dropped or picked file's
 * bytes, and both say the same thing.
 */
import { DataError, decodeUtf8 } from '@tinytape/data';

/**
 * Largest training text read. The pipeline holds the text, its lines and one string per character at
 * once (tens of bytes per character), so a bigger file would exhaust memory long after it was accepted.
 */
export const MAX_TEXT_BYTES = 256 * 1024 * 1024;

/** Bytes looked at for a NUL, the mark of a binary file (git uses the same test). */
export const SNIFF_BYTES = 64 * 1024;

/**
 * The problem with a text file of `size` bytes — empty, or larger than {@link MAX_TEXT_BYTES} — or null.
 *
 * @param label - how messages name the file (the CLI: `--data PATH`; a page: the file's name).
 */
export function textSizeProblem(size: number, label: string): string | null {
  if (size === 0) return `${label}: the file is empty; give a UTF-8 text file`;
  if (size > MAX_TEXT_BYTES) {
    return (
      `${label}: ${(size / 2 ** 20).toFixed(0)} MiB is more than the ${MAX_TEXT_BYTES / 2 ** 20} MiB tinytape reads; ` +
      `train on a part of it (e.g. head -c 100M)`
    );
  }
  return null;
}

/**
 * The problem with a file whose first bytes are `head` (at least the first {@link SNIFF_BYTES}, when
 * the file has them) if it holds a NUL byte, i.e. is binary; else null.
 */
export function binaryProblem(head: Uint8Array, label: string): string | null {
  const nul = head.subarray(0, SNIFF_BYTES).indexOf(0);
  return nul >= 0 ? `${label}: looks like a binary file (a NUL byte at offset ${nul}), not UTF-8 text` : null;
}

/**
 * Every check that a file's contents allow before training: size, binary, then strict UTF-8 (which
 * gives the data pipeline's own message, naming the file as `fileName`). Null when the bytes can be
 * handed to the pipeline; a text that cleaning leaves too short is found there (see {@link tooShortMessage}).
 *
 * @param label - how the size and binary messages name the file.
 * @param fileName - how the UTF-8 message names it (the CLI's names the path alone).
 */
export function textBytesProblem(bytes: Uint8Array, label: string, fileName = label): string | null {
  const problem = textSizeProblem(bytes.length, label) ?? binaryProblem(bytes, label);
  if (problem !== null) return problem;
  try {
    decodeUtf8(bytes, fileName);
  } catch (error) {
    if (error instanceof DataError) return error.message;
    throw error;
  }
  return null;
}

/**
 * The message for a text the loader found too short for one batch (`DataError` code `too-short`): the
 * loader's own words, and why a text in another script ends up there.
 */
export function tooShortMessage(label: string, error: DataError): string {
  return `${label}: ${error.message}; the text is cleaned as d2l does (letters a-z and single spaces only), so a text in another script leaves nothing`;
}
