// Bundles and runs packages/tensor/src/backends/cpu/wasm/math-exhaustive.ts: the wasm exp/tanh/sigmoid
// kernels against the TypeScript reference on all 2^32 float32 inputs (about 6 minutes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = await bundleForNode(
  path.join(root, 'packages/tensor/src/backends/cpu/wasm/math-exhaustive.ts'),
  path.join(mkdtempSync(path.join(tmpdir(), 'tinytape-')), 'math-exhaustive.mjs'),
  { external: [] },
);
process.exitCode = spawnSync(process.execPath, [bundle], { stdio: 'inherit' }).status ?? 1;
