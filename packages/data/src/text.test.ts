import { describe, expect, it } from 'vitest';
import { DataError } from './errors.ts';
import { decodeUtf8, splitLines } from './text.ts';
import { cleanLine } from './time-machine.ts';
import { tokenize } from './tokenize.ts';

describe('decodeUtf8', () => {
  it('decodes UTF-8 and drops a BOM', () => {
    const bytes = new TextEncoder().encode('\uFEFFhé 周');
    expect(decodeUtf8(bytes, 'x')).toBe('hé 周');
  });

  it('rejects invalid UTF-8 with a DataError naming the source', () => {
    const latin1 = Uint8Array.from([0x68, 0xe9, 0x6c, 0x6c, 0x6f]); // "héllo" in Latin-1
    expect(() => decodeUtf8(latin1, '/some/file.txt')).toThrow(DataError);
    expect(() => decodeUtf8(latin1, '/some/file.txt')).toThrow(/\/some\/file\.txt is not valid UTF-8/);
  });
});

describe('splitLines', () => {
  it('treats LF, CRLF and CR alike, like Python text mode', () => {
    expect(splitLines('a\r\nb\nc\rd')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('does not add an empty line after a final line break, but keeps inner empty lines', () => {
    expect(splitLines('a\n\nb\n')).toEqual(['a', '', 'b']);
    expect(splitLines('a\r\n')).toEqual(['a']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('\n')).toEqual(['']);
  });
});

describe('cleanLine', () => {
  it("collapses runs of non-letters to one space, trims and lower-cases (d2l's regex)", () => {
    expect(cleanLine('The Time Machine, by H. G. Wells [1898]')).toBe('the time machine by h g wells');
    expect(cleanLine('  --Hello...World!!  ')).toBe('hello world');
    expect(cleanLine('1234')).toBe('');
    expect(cleanLine('café')).toBe('caf');
  });
});

describe('tokenize', () => {
  const lines = ['the time', '', 'ab'];

  it('char mode gives one token per character', () => {
    expect(tokenize(lines, 'char')).toEqual([['t', 'h', 'e', ' ', 't', 'i', 'm', 'e'], [], ['a', 'b']]);
  });

  it('char mode splits by code point, not UTF-16 unit', () => {
    expect(tokenize(['a😀b'], 'char')).toEqual([['a', '😀', 'b']]);
  });

  it('word mode splits on whitespace (the default), an empty line has no tokens', () => {
    expect(tokenize(lines)).toEqual([['the', 'time'], [], ['ab']]);
    expect(tokenize(['a  b '], 'word')).toEqual([['a', 'b']]);
  });

  it('an unknown mode throws', () => {
    expect(() => tokenize(lines, 'byte' as never)).toThrow(DataError);
    expect(() => tokenize(lines, 'byte' as never)).toThrow(/unknown token kind 'byte'/);
  });
});
