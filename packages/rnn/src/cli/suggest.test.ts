import { describe, expect, it } from 'vitest';
import { editDistance, suggest } from './suggest.ts';

describe('suggest', () => {
  it('measures edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('lstm', 'lstm')).toBe(0);
  });

  it('suggests only plausible typos', () => {
    expect(suggest('--hiden', ['--hidden', '--layers'])).toBe('--hidden');
    expect(suggest('trian', ['train', 'generate'])).toBe('train');
    expect(suggest('GRU', ['rnn', 'gru'])).toBe('gru');
    expect(suggest('xyz', ['train', 'generate'])).toBeUndefined();
    expect(suggest('ab', ['cd'])).toBeUndefined();
  });
});
