import { DataError } from './errors.ts';

/** The two token kinds of d2l's `tokenize`. */
export type TokenKind = 'word' | 'char';

/**
 * Splits each line into tokens (d2l's `tokenize`). `'char'`: one token per character (Unicode code
 * point, like Python's `list(line)`). `'word'`: runs of whitespace separate tokens, as Python's
 * `line.split()` does, so an empty line gives no tokens.
 *
 * @throws DataError for an unknown kind (d2l printed a message and returned None).
 */
export function tokenize(lines: readonly string[], token: TokenKind = 'word'): string[][] {
  if (token === 'char') return lines.map((line) => Array.from(line));
  if (token === 'word') return lines.map((line) => line.split(/\s+/).filter((t) => t !== ''));
  throw new DataError('bad-argument', `tokenize: unknown token kind '${String(token)}'; use 'word' or 'char'`);
}
