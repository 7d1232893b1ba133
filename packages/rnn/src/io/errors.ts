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
