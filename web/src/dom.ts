/* Small DOM helpers shared by the page's modules. */

/** The element with `id`, typed; a missing one is a bug in index.html, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`index.html has no #${id}`);
  return el as T;
}

/** The page's state, for people (styles) and for tests: idle, training, stopped, done or error. */
export type PageState = 'idle' | 'training' | 'stopped' | 'done' | 'error';

export function setState(state: PageState): void {
  document.body.dataset.state = state;
}

/** Shows `message` in #error (the URL contract's place for it) and sets the state to error. */
export function showError(message: string): void {
  const el = byId('error');
  el.textContent = message;
  el.hidden = false;
  setState('error');
}

export function clearError(): void {
  const el = byId('error');
  el.textContent = '';
  el.hidden = true;
}

/** Offers `bytes` as a file download named `fileName`. */
export function download(bytes: Uint8Array, fileName: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started from the click; the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
