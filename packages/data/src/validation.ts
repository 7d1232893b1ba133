import { DataError } from './errors.ts';

/** Throws unless `value` is an integer >= 1 (batch sizes, step counts). */
export function checkPositiveInt(caller: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new DataError('bad-argument', `${caller}: ${name} must be an integer >= 1, got ${value}`);
  }
}

/**
 * Checks batch size and step count, then that the corpus is long enough for at least one batch.
 *
 * @param minLength - the true minimum for this iterator (worst-case random offset included).
 * @param formula - how `minLength` was computed, shown to the user.
 */
export function checkIterArgs(
  caller: string,
  corpusLength: number,
  batchSize: number,
  numSteps: number,
  minLength: (batchSize: number, numSteps: number) => number,
  formula: string,
): void {
  checkPositiveInt(caller, 'batchSize', batchSize);
  checkPositiveInt(caller, 'numSteps', numSteps);
  const need = minLength(batchSize, numSteps);
  if (corpusLength < need) {
    throw new DataError(
      'too-short',
      `${caller}: corpus of ${corpusLength} tokens is too short for batchSize ${batchSize} and numSteps ${numSteps}: ` +
        `need at least ${need} tokens (${formula})`,
    );
  }
}
