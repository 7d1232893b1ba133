// `pnpm train ...` / `pnpm generate ...`: bundles the CLI from its TypeScript sources (well under a
// second) into .cache/bundles/tinytape.mjs and runs it in this process with the given command and flags.
import { buildCli } from './build.mjs';

const outfile = await buildCli();
process.argv = [process.argv[0], outfile, ...process.argv.slice(2)];
await import(outfile);
