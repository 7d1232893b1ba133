/**
 * Typed errors for everything in `@tinytape/rnn` that a user can get wrong from the outside: command-line
 * flags, checkpoint files, output files and chart data. Each subclass carries one message that names the
 * bad value and says what was expected, so the CLI can print `err.message` alone and stop.
 */

/**
 * Base class of every user-facing error in `@tinytape/rnn`. The CLI catches this one type, prints the
 * message without a stack trace and exits non-zero; anything else is a bug and keeps its stack.
 */
export class TinytapeUserError extends Error {
  /**
   * @param message - one line naming the bad value and what is expected.
   * @param options - `cause` keeps the underlying system error reachable for debugging.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // new.target so subclasses report their own name without repeating this line.
    this.name = new.target.name;
  }
}

/** A checkpoint (safetensors) file that cannot be written, read or trusted: bad header, bad offsets, truncation. */
export class CheckpointError extends TinytapeUserError {}

/** A command line that cannot be understood: unknown command or flag, missing or out-of-range value. */
export class CliError extends TinytapeUserError {}

/** Chart or table input that cannot be rendered (bad size, ragged CSV rows). */
export class PlotError extends TinytapeUserError {}

/** A file that could not be written atomically; the previous content of the target, if any, is untouched. */
export class FileWriteError extends TinytapeUserError {}

/**
 * A training run that stopped before its last epoch — interrupted (Ctrl-C) or diverged — after doing
 * what it could to keep the work (a checkpoint). `exitCode` is the process status the CLI ends with.
 */
export class RunStoppedError extends TinytapeUserError {
  /**
   * @param message - one line: why the run stopped and where the last checkpoint is.
   * @param exitCode - 130 for an interrupt (the shell's convention for SIGINT), 3 for divergence.
   */
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Parameters holding NaN or ±Infinity: saving them would replace a good checkpoint with a useless one. */
export class NonFiniteParameterError extends CheckpointError {}
