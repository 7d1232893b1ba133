import { DataError } from './errors.ts';

/**
 * Decodes UTF-8 bytes strictly: an invalid byte sequence is an error, never a silent U+FFFD, because a
 * mis-encoded corpus would otherwise train on garbage characters. A leading byte-order mark is dropped.
 *
 * @param label - how to name the source in the error message (usually its path).
 * @throws DataError `not-utf8`.
 */
export function decodeUtf8(bytes: Uint8Array, label: string): string {
  try {
    // ignoreBOM: false (the default) means the decoder consumes a leading BOM instead of returning it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DataError(
      'not-utf8',
      `${label} is not valid UTF-8 text; convert it to UTF-8 (e.g. with iconv) or pass a different file`,
    );
  }
}

/**
 * Splits text into lines the way Python's text mode + `readlines()` does: `\n`, `\r\n` and a lone `\r`
 * all end a line, the line breaks are not kept, and a final line break does not start an empty line.
 */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\r|\n/);
  // "a\nb\n" is two lines, not three.
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
