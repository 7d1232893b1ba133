/**
 * Progress lines go to stderr, so stdout carries only the result (the table, or with --json the
 * one JSON object). Libraries that print to stdout at import time are redirected too (see main.ts).
 */
let quiet = false;

export function setQuiet(q: boolean): void {
  quiet = q;
}

export function log(line: string): void {
  if (!quiet) process.stderr.write(`${line}\n`);
}
