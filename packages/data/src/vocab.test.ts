import { describe, expect, it } from 'vitest';
import { CharVocab } from './char-vocab.ts';
import { DataError } from './errors.ts';
import { Vocab, countCorpus } from './vocab.ts';

describe('countCorpus', () => {
  it('flattens one level of nesting or counts a flat list', () => {
    expect([...countCorpus([['a', 'b'], ['a']])]).toEqual([['a', 2], ['b', 1]]);
    expect([...countCorpus(['x', 'y', 'x'])]).toEqual([['x', 2], ['y', 1]]);
    expect(countCorpus([]).size).toBe(0);
  });
});

describe('Vocab', () => {
  // Counts b 3, c 2, a 2, d 1; first seen in the order b, c, a, d, so the c/a tie must keep c first
  // (an alphabetical or unstable sort would put a first).
  const tokens = [['b', 'c', 'b'], ['a', 'c', 'b', 'a', 'd']];

  it('puts <unk> first, then tokens by descending frequency with ties in first-seen order', () => {
    const v = new Vocab(tokens);
    expect(v.idxToToken).toEqual(['<unk>', 'b', 'c', 'a', 'd']);
    expect(v.tokenFreqs).toEqual([['b', 3], ['c', 2], ['a', 2], ['d', 1]]);
    expect(v.length).toBe(5);
    expect(v.unk).toBe(0);
  });

  it('places reserved tokens after <unk> and does not repeat them', () => {
    const v = new Vocab([...tokens, ['<pad>']], { reservedTokens: ['<pad>', '<bos>'] });
    expect(v.idxToToken).toEqual(['<unk>', '<pad>', '<bos>', 'b', 'c', 'a', 'd']);
    expect(v.get('<pad>')).toBe(1);
  });

  it('stops at the first token rarer than minFreq', () => {
    expect(new Vocab(tokens, { minFreq: 2 }).idxToToken).toEqual(['<unk>', 'b', 'c', 'a']);
    expect(new Vocab(tokens, { minFreq: 3 }).idxToToken).toEqual(['<unk>', 'b']);
    expect(new Vocab(tokens, { minFreq: 4 }).idxToToken).toEqual(['<unk>']);
  });

  it('maps tokens to indices, unknown ones (and cut ones) to 0, for single tokens and lists', () => {
    const v = new Vocab(tokens, { minFreq: 2 });
    expect(v.get('b')).toBe(1);
    expect(v.get('zzz')).toBe(0);
    expect(v.get('d')).toBe(0);
    expect(v.get(['a', 'q', 'c'])).toEqual([3, 0, 2]);
    expect(v.get([['a'], ['b', 'x']])).toEqual([[3], [1, 0]]);
    // A token that is also an Object.prototype name must not confuse the lookup.
    expect(v.get('constructor')).toBe(0);
  });

  it('round-trips with toTokens and rejects indices outside the vocabulary', () => {
    const v = new Vocab(tokens);
    expect(v.toTokens(v.get(['d', 'a']))).toEqual(['d', 'a']);
    expect(v.toTokens(0)).toBe('<unk>');
    expect(v.toTokens(Int32Array.from([1, 2]))).toEqual(['b', 'c']);
    expect(v.tokenToIdx.get('c')).toBe(2);
    expect(() => v.toTokens(5)).toThrow(/outside the vocabulary/);
    expect(() => v.toTokens(-1)).toThrow(DataError);
  });

  it('an empty vocabulary holds only <unk>', () => {
    const v = new Vocab();
    expect(v.idxToToken).toEqual(['<unk>']);
    expect(v.get('a')).toBe(0);
  });
});

describe('CharVocab', () => {
  it('keeps first-appearance order of distinct characters', () => {
    const v = CharVocab.fromText('abca 😀b');
    expect(v.idxToToken).toEqual(['a', 'b', 'c', ' ', '😀']);
    expect(v.length).toBe(5);
    expect(v.get(['c', '😀'])).toEqual([2, 4]);
    expect(v.toTokens([3, 0])).toEqual([' ', 'a']);
  });

  it('without a fallback, an unknown character throws a clear DataError', () => {
    const v = CharVocab.fromText('ab');
    expect(v.unk).toBeNull();
    expect(() => v.get('z')).toThrow(DataError);
    expect(() => v.get('z')).toThrow(/'z' is not among the 2 characters/);
  });

  it('with a fallback, an unknown character maps to the fallback index', () => {
    const v = CharVocab.fromText('a b', { fallback: ' ' });
    expect(v.unk).toBe(1);
    expect(v.get(['a', 'Z', 'b'])).toEqual([0, 1, 2]);
  });

  it('rejects duplicate tokens and a fallback outside the vocabulary', () => {
    expect(() => new CharVocab(['a', 'a'])).toThrow(/appears twice/);
    expect(() => CharVocab.fromText('ab', { fallback: ' ' })).toThrow(/fallback/);
  });
});
