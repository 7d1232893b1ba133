/**
 * Ctrl-C during `tinytape train --save`: the first SIGINT asks the run to stop at the end of the epoch
 * under way (so the checkpoint holds a whole number of epochs and can be resumed exactly); a second one
 * quits at once, which is safe too because checkpoints are written atomically.
 */

/** What {@link watchInterrupt} returns. */
export interface InterruptWatch {
  /** Aborted at the first SIGINT; pass it to `train` as `signal`. */
  readonly signal: AbortSignal;
  /** Removes the handler, giving SIGINT back its default (terminate) behaviour. */
  dispose(): void;
}

/**
 * Installs a SIGINT handler for the length of a training run.
 *
 * @param onFirst - called at the first SIGINT, e.g. to say that the run stops after this epoch.
 * @param quit - what the second SIGINT does (default: exit with status 130, the shell's code for SIGINT).
 */
export function watchInterrupt(onFirst: () => void, quit: () => void = () => process.exit(130)): InterruptWatch {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) {
      quit();
      return;
    }
    controller.abort();
    onFirst();
  };
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
    },
  };
}
