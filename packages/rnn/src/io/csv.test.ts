import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';
import { PlotError } from './errors.ts';

describe('toCsv', () => {
  it('writes a header and rows with a trailing newline', () => {
    expect(toCsv(['epoch', 'perplexity'], [[1, 27.5], [2, 17.25]])).toBe('epoch,perplexity\n1,27.5\n2,17.25\n');
  });

  it('quotes commas, quotes, line breaks and edge whitespace', () => {
    const csv = toCsv(['name', 'text'], [
      ['a,b', 'say "hi"'],
      ['line\nbreak', 'cr\rlf'],
      [' lead', 'trail '],
      ['plain', ''],
    ]);
    expect(csv).toBe(
      'name,text\n' + '"a,b","say ""hi"""\n' + '"line\nbreak","cr\rlf"\n' + '" lead","trail "\n' + 'plain,\n',
    );
  });

  it('writes numbers round-trippably and non-finite ones readably', () => {
    expect(toCsv(['v'], [[0.1 + 0.2], [1e-7], [NaN], [Infinity], [-Infinity]])).toBe(
      'v\n0.30000000000000004\n1e-7\nNaN\ninf\n-inf\n',
    );
  });

  it('handles no rows', () => {
    expect(toCsv(['epoch'], [])).toBe('epoch\n');
  });

  it('rejects ragged rows and non-scalar cells', () => {
    expect(() => toCsv(['a', 'b'], [[1, 2], [3]])).toThrow(PlotError);
    expect(() => toCsv(['a', 'b'], [[1, 2], [3]])).toThrow('toCsv: row 1 has 1 cells, expected 2 to match the header');
    expect(() => toCsv(['a'], [[null as unknown as string]])).toThrow('toCsv: row 0 column 0 is null, expected a string or number');
  });
});
