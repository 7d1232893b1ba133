/** Help text, generated from the flag tables so every flag and its default is always listed. */
import { COMMANDS, flagsOf, type CommandName } from './flags.ts';

/** Name the help text uses for the program. */
export const PROGRAM = 'tinytape';

const SUMMARY: Record<CommandName, string> = {
  train: "train d2l's character-level RNN, GRU or LSTM language model (chapters 8-9)",
  generate: 'continue a prefix with a trained checkpoint',
};

/**
 * Help text: the command overview without an argument, or every flag of `command` with its default.
 */
export function usage(command?: CommandName): string {
  if (command === undefined) {
    const width = Math.max(...COMMANDS.map((c) => c.length));
    return [
      `Usage: ${PROGRAM} <command> [options]`,
      '',
      'Commands:',
      ...COMMANDS.map((c) => `  ${c.padEnd(width)}  ${SUMMARY[c]}`),
      '',
      `Run "${PROGRAM} <command> --help" for the options of a command.`,
      '',
    ].join('\n');
  }
  const rows = flagsOf(command).map((f) => {
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`;
    const text = f.default !== undefined ? `${f.help} (default: ${f.default})` : f.help;
    return [names, text] as const;
  });
  const width = Math.max(...rows.map(([names]) => names.length));
  return [
    `Usage: ${PROGRAM} ${command} [options]`,
    '',
    `${SUMMARY[command][0]!.toUpperCase()}${SUMMARY[command].slice(1)}.`,
    '',
    'Options:',
    ...rows.map(([names, text]) => `  ${names.padEnd(width)}  ${text}`),
    '',
  ].join('\n');
}
