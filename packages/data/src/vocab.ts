import { lookupTokens } from './index-lookup.ts';
import type { TokenVocab } from './token-vocab.ts';

/** Options of {@link Vocab}. */
export interface VocabOptions {
  /** Tokens seen fewer times than this are left out (they map to `<unk>`). Default 0. */
  minFreq?: number;
  /** Tokens placed right after `<unk>`, before the counted ones (e.g. `<pad>`, `<bos>`). */
  reservedTokens?: readonly string[];
}

/** Token lists as d2l passes them: a list of lines of tokens, or one flat list. */
export type TokenInput = readonly (readonly string[])[] | readonly string[];

/**
 * Counts tokens (d2l's `count_corpus`): a list of token lists is flattened one level; a flat list is
 * counted as is. The Map keeps first-seen order, which the stable sort in {@link Vocab} relies on.
 */
export function countCorpus(tokens: TokenInput): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (t: string): void => {
    counts.set(t, (counts.get(t) ?? 0) + 1);
  };
  for (const item of tokens) {
    if (typeof item === 'string') add(item);
    else for (const t of item) add(t);
  }
  return counts;
}

/**
 * Vocabulary for text (d2l's `Vocab`): `<unk>` at index 0, then the reserved tokens, then the counted
 * tokens by frequency, most frequent first, ties in first-seen order, stopping at the first token
 * rarer than `minFreq`. Unknown tokens map to `<unk>` (index 0).
 */
export class Vocab implements TokenVocab {
  /** Tokens by index. */
  readonly idxToToken: readonly string[];
  /** Indices by token. */
  readonly tokenToIdx: ReadonlyMap<string, number>;
  /** Every counted token with its count, most frequent first (ties in first-seen order). */
  readonly tokenFreqs: readonly (readonly [string, number])[];

  /**
   * @param tokens - lines of tokens (e.g. from {@link tokenize}) or a flat token list; default none.
   */
  constructor(tokens: TokenInput = [], { minFreq = 0, reservedTokens = [] }: VocabOptions = {}) {
    // Array.prototype.sort is stable (ES2019), so equal counts keep the Map's first-seen order,
    // as Python's sorted(..., reverse=True) does over a Counter.
    this.tokenFreqs = [...countCorpus(tokens)].sort((a, b) => b[1] - a[1]);
    const idxToToken = ['<unk>', ...reservedTokens];
    const tokenToIdx = new Map<string, number>();
    idxToToken.forEach((t, i) => {
      if (!tokenToIdx.has(t)) tokenToIdx.set(t, i);
    });
    for (const [token, freq] of this.tokenFreqs) {
      // Sorted by count, so the first rare token ends the list.
      if (freq < minFreq) break;
      if (!tokenToIdx.has(token)) {
        tokenToIdx.set(token, idxToToken.length);
        idxToToken.push(token);
      }
    }
    this.idxToToken = idxToToken;
    this.tokenToIdx = tokenToIdx;
  }

  /** Number of tokens, `<unk>` and reserved ones included. */
  get length(): number {
    return this.idxToToken.length;
  }

  /** Index of `<unk>`: always 0. */
  get unk(): number {
    return 0;
  }

  /** Index of a token (0 if unknown), or indices of a (nested) token list (d2l's `vocab[tokens]`). */
  get(token: string): number;
  get(tokens: readonly string[]): number[];
  get(tokens: readonly (readonly string[])[]): number[][];
  get(tokens: string | readonly string[] | readonly (readonly string[])[]): number | number[] | number[][] {
    if (typeof tokens === 'string') return this.tokenToIdx.get(tokens) ?? this.unk;
    return tokens.map((t) => (typeof t === 'string' ? this.get(t) : this.get(t))) as number[] | number[][];
  }

  /** Token of an index, or tokens of a list of indices (d2l's `to_tokens`). */
  toTokens(index: number): string;
  toTokens(indices: ArrayLike<number>): string[];
  toTokens(indices: number | ArrayLike<number>): string | string[] {
    return lookupTokens(this.idxToToken, indices, 'Vocab.toTokens');
  }
}
