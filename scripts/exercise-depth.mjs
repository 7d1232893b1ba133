// docs/exercises.md: see scripts/exercises/depth.ts for what it does and its flags.
//   node scripts/exercise-depth.mjs [--help]
import { runExercise } from './exercises/bundle.mjs';

await runExercise('depth', process.argv.slice(2));
