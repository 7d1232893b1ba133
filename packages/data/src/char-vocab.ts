import { DataError } from './errors.ts';
import { lookupTokens } from './index-lookup.ts';
import type { TokenVocab } from './token-vocab.ts';

/** Options of {@link CharVocab}. */
export interface CharVocabOptions {
  /**
   * A token of the vocabulary that unknown characters map to (e.g. `' '`), or null (default) to make
   * `get` throw on an unknown character.
   */
  fallback?: string | null;
}

/**
 * A vocabulary without `<unk>`, as the Gluon edition built for the Jay Chou lyrics: the tokens are
 * exactly the given list, in that order. Unknown characters map to the `fallback` token when one is
 * set, else `get` throws a DataError, so a prediction prefix with a new character never crashes
 * obscurely deep inside the model.
 */
export class CharVocab implements TokenVocab {
  /** Tokens by index. */
  readonly idxToToken: readonly string[];
  /** Indices by token. */
  readonly tokenToIdx: ReadonlyMap<string, number>;
  /** Index that unknown characters map to, or null when `get` throws on them. */
  readonly unk: number | null;

  /**
   * @param idxToToken - distinct tokens, index order.
   * @throws DataError when a token repeats or the fallback is not among the tokens.
   */
  constructor(idxToToken: readonly string[], { fallback = null }: CharVocabOptions = {}) {
    const tokenToIdx = new Map<string, number>();
    idxToToken.forEach((t, i) => {
      if (tokenToIdx.has(t)) throw new DataError('bad-argument', `CharVocab: token '${t}' appears twice`);
      tokenToIdx.set(t, i);
    });
    this.idxToToken = [...idxToToken];
    this.tokenToIdx = tokenToIdx;
    if (fallback === null) this.unk = null;
    else {
      const idx = tokenToIdx.get(fallback);
      if (idx === undefined) {
        throw new DataError('bad-argument', `CharVocab: fallback '${fallback}' is not one of the ${idxToToken.length} tokens`);
      }
      this.unk = idx;
    }
  }

  /**
   * The distinct characters (code points) of `text` in order of first appearance. First appearance
   * makes the indices deterministic, where the Gluon edition's Python set gave an arbitrary order.
   */
  static fromText(text: string, options: CharVocabOptions = {}): CharVocab {
    return new CharVocab([...new Set(Array.from(text))], options);
  }

  /** Number of tokens. */
  get length(): number {
    return this.idxToToken.length;
  }

  /**
   * Index of a character, or indices of a list of characters.
   * @throws DataError `unknown-token` for an unknown character when there is no fallback.
   */
  get(token: string): number;
  get(tokens: readonly string[]): number[];
  get(tokens: string | readonly string[]): number | number[] {
    if (typeof tokens !== 'string') return tokens.map((t) => this.get(t));
    const idx = this.tokenToIdx.get(tokens);
    if (idx !== undefined) return idx;
    if (this.unk !== null) return this.unk;
    throw new DataError(
      'unknown-token',
      `CharVocab.get: '${tokens}' is not among the ${this.length} characters of this vocabulary, which has no <unk>; ` +
        `use only characters of the training text`,
    );
  }

  /** Token of an index, or tokens of a list of indices. */
  toTokens(index: number): string;
  toTokens(indices: ArrayLike<number>): string[];
  toTokens(indices: number | ArrayLike<number>): string | string[] {
    return lookupTokens(this.idxToToken, indices, 'CharVocab.toTokens');
  }
}
