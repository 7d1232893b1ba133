/** The `tinytape` program: `tinytape train|generate [flags]` (see main.ts). */
import { runAsProgram } from './main.ts';

runAsProgram();
