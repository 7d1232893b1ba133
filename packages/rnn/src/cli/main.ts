/**
 * The `tinytape` command: `tinytape train [flags]`, `tinytape generate --checkpoint F --prefix P`.
 * A user error (bad flag, missing file, corrupt checkpoint, lost device) prints one line and exits with
 * status 2; a run that diverged exits with 3 and one interrupted by Ctrl-C with 130, each after saying
 * where its checkpoint is. The WebGPU device is always released so the process exits by itself.
 */
import { DataError } from '@tinytape/data';
import { TinytapeError, releaseDevices } from '@tinytape/tensor';
import { RunStoppedError, TinytapeUserError } from '../io/errors.ts';
import { parseCli } from './args.ts';
import { runGenerate } from './run-generate.ts';
import { type Io, runTrain } from './run-train.ts';

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const cmd = parseCli(argv);
    if (cmd.command === 'help') io.out(cmd.text);
    else if (cmd.command === 'train') await runTrain(cmd.config, io);
    else await runGenerate(cmd.config, io);
    return 0;
  } catch (error) {
    if (error instanceof TinytapeUserError || error instanceof DataError || error instanceof TinytapeError) {
      // One line even when a message quotes multi-line input: the rest would read like a stack trace.
      io.err(`tinytape: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
      return error instanceof RunStoppedError ? error.exitCode : 2;
    }
    throw error;
  } finally {
    await releaseDevices();
  }
}

/**
 * Runs the CLI as the program: arguments from process.argv, output to stdout/stderr, the exit status
 * in process.exitCode. The `tinytape` binary (cli/bin.ts) calls it.
 */
export function runAsProgram(): void {
  const io: Io = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    tty: Boolean(process.stderr.isTTY),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
