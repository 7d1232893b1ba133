// Bundles one exercise (scripts/exercises/<name>.ts) with esbuild, as scripts/build.mjs does for the CLI,
// and runs its `main(argv)`. The exercises use the packages' TypeScript sources directly, so plain Node
// cannot load them; bundling takes well under a second. The bundle goes to scripts/dist/ (git-ignored),
// inside the repository so that `webgpu`, kept external like in the CLI bundle, still resolves.
import { bundleForNode } from '../build.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function runExercise(name, argv) {
  const outfile = path.join(here, '../dist', `exercise-${name}.mjs`);
  await bundleForNode(path.join(here, `${name}.ts`), outfile);
  const { main } = await import(outfile);
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    // A mistyped flag is the user's error, not a bug: one line, like the CLI.
    if (error?.name !== 'FlagError') throw error;
    console.error(`exercise-${name}: ${error.message}`);
    process.exitCode = 2;
  }
}
