/**
 * The one error type of `@tinytape/data`. Every failure a user can cause (a bad argument, a missing or
 * corrupt file, a download that did not work) is a `DataError` whose message names the offending value
 * and says what is needed, so the fix is readable from the message alone.
 */

/** What kind of failure a {@link DataError} reports, for callers that want to branch on it. */
export type DataErrorCode =
  | 'bad-argument'
  | 'too-short'
  | 'unknown-dataset'
  | 'missing-file'
  | 'hash-mismatch'
  | 'download-failed'
  | 'not-utf8'
  | 'bad-zip'
  | 'unknown-token'
  | 'needs-node';

/** A clear, typed failure of the data pipeline; `code` tells the kind, the message tells the fix. */
export class DataError extends Error {
  readonly code: DataErrorCode;

  constructor(code: DataErrorCode, message: string) {
    super(message);
    this.name = 'DataError';
    this.code = code;
  }
}
