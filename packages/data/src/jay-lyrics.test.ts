import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors.ts';
import { loadDataJayChou, loadDataJayLyrics } from './jay-lyrics.ts';
import { SHARED_DATA_DIR, withTempDir } from './testing/shared-data.ts';

const source = { dataDir: SHARED_DATA_DIR, progress: false as const };

describe('loadDataJayLyrics (Gluon edition)', () => {
  it('has 1,027 distinct characters in the first 10,000', async () => {
    const { corpusIndices, charToIdx, idxToChar, vocabSize } = await loadDataJayLyrics(source);
    expect(corpusIndices).toHaveLength(10_000);
    expect(vocabSize).toBe(1027);
    expect(idxToChar).toHaveLength(1027);
    expect(charToIdx.size).toBe(1027);
    idxToChar.forEach((c, i) => expect(charToIdx.get(c)).toBe(i));
  });

  it('matches the unzipped text with line breaks as spaces, indices in first-appearance order', async () => {
    const raw = (await readFile(path.join(SHARED_DATA_DIR, 'jaychou_lyrics.txt'), 'utf8')).replace(/[\n\r]/g, ' ');
    const expected = Array.from(raw).slice(0, 10_000);
    const { corpusIndices, idxToChar } = await loadDataJayLyrics(source);
    expect(Array.from(corpusIndices, (i) => idxToChar[i]).join('')).toBe(expected.join(''));
    expect(idxToChar).not.toContain('\n');
    // First appearance: each new index is exactly one more than the largest seen so far.
    let max = -1;
    for (const i of corpusIndices) {
      expect(i).toBeLessThanOrEqual(max + 1);
      max = Math.max(max, i);
    }
  });

  it('reads the unzipped copy given as a path just like the zip', async () => {
    const fromZip = await loadDataJayLyrics(source);
    const fromText = await loadDataJayLyrics({ path: path.join(SHARED_DATA_DIR, 'jaychou_lyrics.txt') });
    expect(fromText.idxToChar).toEqual(fromZip.idxToChar);
    expect(fromText.corpusIndices).toEqual(fromZip.corpusIndices);
  });

  it('turns every \\n and \\r into a space (CRLF -> two spaces, as in the book) and drops a BOM', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'lyrics.txt');
      await writeFile(file, '\uFEFF你好\r\n世界\r周');
      const { corpusIndices, idxToChar } = await loadDataJayLyrics({ path: file });
      expect(Array.from(corpusIndices, (i) => idxToChar[i]).join('')).toBe('你好  世界 周');
      expect(idxToChar).toEqual(['你', '好', ' ', '世', '界', '周']);
    });
  });

  it('numChars counts code points, not UTF-16 units', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'astral.txt');
      await writeFile(file, '😀a😀b');
      const { idxToChar, corpusIndices } = await loadDataJayLyrics({ path: file, numChars: 3 });
      expect(idxToChar).toEqual(['😀', 'a']);
      expect(Array.from(corpusIndices)).toEqual([0, 1, 0]);
    });
  });

  it('a missing file is a DataError', async () => {
    await expect(loadDataJayLyrics({ path: '/no/such/lyrics.zip' })).rejects.toThrow(DataError);
  });
});

describe('loadDataJayChou', () => {
  it('gives a re-iterable loader and a CharVocab without <unk> whose unknowns map to space', async () => {
    const { trainIter, vocab } = await loadDataJayChou(32, 35, { ...source, seed: 1 });
    expect(vocab.length).toBe(1027);
    expect(vocab.idxToToken).not.toContain('<unk>');
    expect(vocab.unk).toBe(vocab.get(' '));
    expect(vocab.get('€')).toBe(vocab.get(' '));
    // Consecutive, no offset: batchLen = 10000//32 = 312, (312-1)//35 = 8 batches, same every epoch.
    const a = [...trainIter];
    expect(a).toHaveLength(8);
    expect([...trainIter]).toEqual(a);
    for (const b of a) expect(b.shape).toEqual([32, 35]);
  });

  it('random sampling shuffles differently each epoch but reproducibly under a seed', async () => {
    const epochs = async (): Promise<string[]> => {
      const { trainIter } = await loadDataJayChou(4, 10, { ...source, seed: 5, useRandomIter: true });
      return [0, 1, 2].map(() => Array.from([...trainIter][0]!.X).join());
    };
    const a = await epochs();
    expect(new Set(a).size).toBe(3);
    expect(await epochs()).toEqual(a);
  });

  it('rejects bad sizes and a too-short corpus', async () => {
    await expect(loadDataJayChou(1.5, 35, source)).rejects.toThrow(/batchSize must be an integer >= 1, got 1.5/);
    await expect(loadDataJayChou(100, 100, source)).rejects.toThrow(
      /dataIterConsecutive: corpus of 10000 tokens is too short for batchSize 100 and numSteps 100: need at least 10100 tokens/,
    );
  });
});
