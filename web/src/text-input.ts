/*
 * Where the page's training text comes from: The Time Machine served by the page's own origin, or a
 * text file the user drops on the page or picks. A picked file is checked at once with the CLI's own
 * checks (empty, too large, binary, not UTF-8), so the page says what the CLI would say.
 */
import { MAX_TEXT_BYTES, textBytesProblem, textSizeProblem } from '@tinytape/rnn';
import type { TextSource } from './protocol.ts';

/** Where `pnpm web` serves The Time Machine, relative to the page. */
export const BOOK_PATH = 'data/timemachine.txt';

/** What the page says about the book before any run: served (with its size), or missing and what to do. */
export async function checkBookServed(): Promise<{ ok: boolean; message: string }> {
  try {
    const response = await fetch(BOOK_PATH, { method: 'HEAD' });
    if (response.ok) {
      const size = Number(response.headers.get('content-length') ?? NaN);
      return { ok: true, message: `The Time Machine, served by this page${Number.isFinite(size) ? ` (${size.toLocaleString('en')} bytes)` : ''}` };
    }
    return { ok: false, message: missingBook(`the server answered ${response.status} for ${BOOK_PATH}`) };
  } catch (error) {
    return { ok: false, message: missingBook(`fetching ${BOOK_PATH} failed (${(error as Error).message})`) };
  }
}

function missingBook(what: string): string {
  return (
    `The Time Machine is not available: ${what}. Serve the page with pnpm web, which serves timemachine.txt from ` +
    `$TINYTAPE_DATA_DIR or ~/.cache/tinytape (pnpm train --epochs 1 downloads it there once; pnpm web --data-dir DIR names another folder), ` +
    `or drop a text file of your own here.`
  );
}

/** The text source for a run: the user's file when one was accepted, else the book (as an absolute URL for the worker). */
export function bookSource(): TextSource {
  return { kind: 'url', url: new URL(BOOK_PATH, location.href).href };
}

/**
 * Reads and checks a dropped or picked file. Returns its bytes, or the message the CLI would give for
 * the same file as `--data` (named by the file's name here).
 */
export async function readTextFile(file: File): Promise<{ source: TextSource } | { problem: string }> {
  // Refused before reading: a file past the limit would be read whole into memory first.
  if (file.size > MAX_TEXT_BYTES) return { problem: textSizeProblem(file.size, file.name)! };
  const bytes = new Uint8Array(await file.arrayBuffer());
  const problem = textBytesProblem(bytes, file.name);
  return problem === null ? { source: { kind: 'bytes', bytes, name: file.name } } : { problem };
}

/**
 * Calls `onFile` for a file dropped anywhere on `zone` or picked with `input`. The browser's default
 * for a dropped file (opening it) is prevented.
 */
export function watchTextFiles(zone: HTMLElement, input: HTMLInputElement, onFile: (file: File) => void): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file !== undefined) onFile(file);
    input.value = '';
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (file !== undefined) onFile(file);
  });
}
