// `pnpm train ...` / `pnpm generate ...`: builds the CLI bundle (well under a second) and runs it
// in this process with the given command and flags.
import { buildCli } from './build.mjs';

const outfile = await buildCli();
process.argv = [process.argv[0], outfile, ...process.argv.slice(2)];
await import(outfile);
