// `pnpm bench [flags]`: bundles benchmarks/src/main.ts with esbuild (well under a second) into
// benchmarks/dist/bench.mjs and runs it in this process, like scripts/cli.mjs does for the CLI.
// The peers (TensorFlow.js, jax-js) and `webgpu` stay external: tfjs-backend-wasm finds its .wasm
// files next to its own module, and Dawn is a native addon, so all three must load from
// benchmarks/node_modules at run time — which is why the bundle is written inside benchmarks/.
import { bundleForNode } from '../scripts/build.mjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.join(here, 'dist/bench.mjs');

await bundleForNode(path.join(here, 'src/main.ts'), outfile, { external: ['webgpu', '@tensorflow/*', '@jax-js/*'] });

// Dawn's Vulkan loader wants a runtime directory; a fresh one keeps lavapipe from complaining.
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(path.join(tmpdir(), 'tinytape-bench-'));
process.argv = [process.argv[0], outfile, ...process.argv.slice(2)];
await import(outfile);
