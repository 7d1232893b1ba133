// docs/exercises.md: see scripts/exercises/overfit.ts for what it does and its flags.
//   node scripts/exercise-overfit.mjs [--help]
import { runExercise } from './exercises/bundle.mjs';

await runExercise('overfit', process.argv.slice(2));
