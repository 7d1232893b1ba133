/**
 * What a language model needs from a vocabulary: token <-> index in both directions. Implemented by
 * {@link Vocab} (d2l's, with `<unk>`) and {@link CharVocab} (the Gluon edition's, without).
 */
export interface TokenVocab {
  /** Number of tokens (the model's input and output size). */
  readonly length: number;
  /**
   * The index `get` returns for a token not in the vocabulary, or null when `get` throws instead.
   */
  readonly unk: number | null;
  /** Tokens by index. */
  readonly idxToToken: readonly string[];
  /** Indices by token. */
  readonly tokenToIdx: ReadonlyMap<string, number>;
  /** Index of one token. */
  get(token: string): number;
  /** Indices of a list of tokens. */
  get(tokens: readonly string[]): number[];
  /** Token of one index. */
  toTokens(index: number): string;
  /** Tokens of a list of indices. */
  toTokens(indices: ArrayLike<number>): string[];
}
