import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors.ts';
import { sha1Hex } from './sha1.ts';
import { SHARED_DATA_DIR } from './testing/shared-data.ts';
import { isZip, readZipEntry } from './zip.ts';

const zipPath = path.join(SHARED_DATA_DIR, 'jaychou_lyrics.txt.zip');

describe('readZipEntry', () => {
  it('the shared archive and its unzipped copy have their published SHA-1s', async () => {
    expect(await sha1Hex(await readFile(zipPath))).toBe('9529987e701a4f37048ab778270a5dde9a762a0b');
    expect(await sha1Hex(await readFile(path.join(SHARED_DATA_DIR, 'jaychou_lyrics.txt')))).toBe(
      '389655757a8ef48c7ad5253ded9caa13cdf6086a',
    );
  });

  it('extracts jaychou_lyrics.txt with the published SHA-1', async () => {
    const bytes = await readFile(zipPath);
    expect(isZip(bytes)).toBe(true);
    const entry = await readZipEntry(bytes, 'jaychou_lyrics.txt', zipPath);
    expect(entry.length).toBe(171_182);
    expect(await sha1Hex(entry)).toBe('389655757a8ef48c7ad5253ded9caa13cdf6086a');
  });

  it('names the entries when the wanted one is missing', async () => {
    const bytes = await readFile(zipPath);
    await expect(readZipEntry(bytes, 'nope.txt', zipPath)).rejects.toThrow(/no entry 'nope.txt' \(entries: jaychou_lyrics.txt/);
  });

  it('rejects bytes that are not a zip archive', async () => {
    const text = new TextEncoder().encode('just some text, not an archive');
    expect(isZip(text)).toBe(false);
    await expect(readZipEntry(text, 'a')).rejects.toThrow(DataError);
    await expect(readZipEntry(text, 'a')).rejects.toThrow(/not a zip archive/);
  });

  it('detects damaged compressed data', async () => {
    const bytes = Uint8Array.from(await readFile(zipPath));
    // Flip bytes in the middle of the compressed stream: inflation or the CRC-32 check must fail.
    for (let i = 5000; i < 5010; i++) bytes[i] = bytes[i]! ^ 0xff;
    await expect(readZipEntry(bytes, 'jaychou_lyrics.txt')).rejects.toThrow(DataError);
  });
});
