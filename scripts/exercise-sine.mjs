// docs/exercises.md: see scripts/exercises/sine.ts for what it does and its flags.
//   node scripts/exercise-sine.mjs [--help]
import { runExercise } from './exercises/bundle.mjs';

await runExercise('sine', process.argv.slice(2));
