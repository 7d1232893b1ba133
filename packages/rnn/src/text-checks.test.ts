import { describe, expect, it } from 'vitest';
import { DataError } from '@tinytape/data';
import { MAX_TEXT_BYTES, SNIFF_BYTES, binaryProblem, textBytesProblem, textSizeProblem, tooShortMessage } from './text-checks.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('text checks shared by the CLI and the page', () => {
  it('size: empty and too large, each named by the label', () => {
    expect(textSizeProblem(0, 'notes.txt')).toBe('notes.txt: the file is empty; give a UTF-8 text file');
    expect(textSizeProblem(300 * 2 ** 20, '--data big.txt')).toBe('--data big.txt: 300 MiB is more than the 256 MiB tinytape reads; train on a part of it (e.g. head -c 100M)');
    expect(textSizeProblem(MAX_TEXT_BYTES, 'ok.txt')).toBeNull();
    expect(textSizeProblem(1, 'ok.txt')).toBeNull();
  });

  it('binary: the first NUL within the sniffed bytes, by offset', () => {
    expect(binaryProblem(Uint8Array.from([65, 66, 0, 67]), 'a.bin')).toBe('a.bin: looks like a binary file (a NUL byte at offset 2), not UTF-8 text');
    expect(binaryProblem(utf8('plain text'), 'a.txt')).toBeNull();
    // A NUL past the sniffed head is not looked for (the CLI reads only the head).
    const late = new Uint8Array(SNIFF_BYTES + 10).fill(65);
    late[SNIFF_BYTES + 5] = 0;
    expect(binaryProblem(late, 'late.txt')).toBeNull();
  });

  it('all bytes: size, then binary, then strict UTF-8 with the pipeline\'s own message', () => {
    expect(textBytesProblem(new Uint8Array(0), 'e.txt')).toContain('the file is empty');
    expect(textBytesProblem(Uint8Array.from([0, 0xff]), 'b.txt')).toContain('a NUL byte at offset 0');
    expect(textBytesProblem(Uint8Array.from([0x74, 0xe9, 0xff]), 'l.txt')).toBe('l.txt is not valid UTF-8 text; convert it to UTF-8 (e.g. with iconv) or pass a different file');
    expect(textBytesProblem(utf8('\ufefftime machine 时光'), 'ok.txt')).toBeNull();
  });

  it('too short: the loader\'s words and the cleaning hint', () => {
    const error = new DataError('too-short', 'loadDataTimeMachine: corpus of 0 tokens is too short');
    expect(tooShortMessage('x.txt', error)).toBe('x.txt: loadDataTimeMachine: corpus of 0 tokens is too short; the text is cleaned as d2l does (letters a-z and single spaces only), so a text in another script leaves nothing');
  });
});
