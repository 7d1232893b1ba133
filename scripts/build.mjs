// Bundles the CLI into one ES module (packages/rnn/dist/tinytape.mjs) with esbuild.
// `webgpu` stays external: it is a native addon loaded from node_modules at run time.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const outfile = path.join(root, 'packages/rnn/dist/tinytape.mjs');

export async function buildCli() {
  await build({
    entryPoints: [path.join(root, 'packages/rnn/src/cli/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: ['webgpu'],
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildCli();
  console.log(`built ${path.relative(root, outfile)}`);
}
