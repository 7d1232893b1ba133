import { DataError } from './errors.ts';

/**
 * Shared `toTokens` body of the vocabularies: maps one index or a list of indices to tokens, with a
 * clear error for an index outside the vocabulary (Python would wrap negatives or raise IndexError).
 */
export function lookupTokens(
  idxToToken: readonly string[],
  indices: number | ArrayLike<number>,
  caller: string,
): string | string[] {
  const one = (index: number): string => {
    if (!Number.isInteger(index) || index < 0 || index >= idxToToken.length) {
      throw new DataError(
        'bad-argument',
        `${caller}: index ${index} is outside the vocabulary (valid: 0..${idxToToken.length - 1})`,
      );
    }
    return idxToToken[index]!;
  };
  if (typeof indices === 'number') return one(indices);
  return Array.from(indices, one);
}
