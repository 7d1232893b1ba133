import { DataError } from './errors.ts';
import { ProgressReporter, type ProgressSink } from './progress.ts';

/**
 * Fetches `url` into memory, reporting progress; every failure becomes a `download-failed` DataError
 * whose message ends with `fix` (how to get the file some other way). Works in Node and browsers.
 */
export async function fetchBytes(
  url: string,
  label: string,
  fix: string,
  sink: ProgressSink | null,
  timeoutMs: number,
): Promise<Uint8Array> {
  const fail = (why: string): DataError =>
    new DataError('download-failed', `download: could not fetch ${url} (${why}).${fix ? ` ${fix}` : ''}`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw fail(describeFetchError(err));
  }
  if (!response.ok || response.body === null) {
    throw fail(`HTTP ${response.status} ${response.statusText}`.trim());
  }
  const lengthHeader = Number(response.headers.get('content-length'));
  const reporter = new ProgressReporter(sink, label, lengthHeader > 0 ? lengthHeader : null);
  const chunks: Uint8Array[] = [];
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      reporter.advance(value.length);
    }
  } catch (err) {
    throw fail(describeFetchError(err));
  }
  reporter.finish();
  return concatBytes(chunks);
}

/** fetch wraps the useful reason (ECONNREFUSED, ENOTFOUND, timeout) in `cause`; surface it. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}

/** The chunks joined into one array. */
function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
