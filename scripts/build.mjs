// Bundles the CLI into one ES module (packages/rnn/dist/tinytape.mjs) with esbuild.
// `webgpu` stays external: it is a native addon loaded from node_modules at run time.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const outfile = path.join(root, 'packages/rnn/dist/tinytape.mjs');

/**
 * Bundles one TypeScript entry point into an ES module for Node 20 (with a source map). Packages in
 * `external` are left to load from node_modules at run time — `webgpu` always, being a native addon —
 * so the bundle must be written where those resolve. The CLI, the exercises and `pnpm bench` use it.
 */
export async function bundleForNode(entry, bundleFile, { external = ['webgpu'], banner } = {}) {
  await build({
    entryPoints: [entry],
    outfile: bundleFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external,
    ...(banner === undefined ? {} : { banner: { js: banner } }),
    logLevel: 'warning',
  });
  return bundleFile;
}

export async function buildCli() {
  return bundleForNode(path.join(root, 'packages/rnn/src/cli/main.ts'), outfile, { banner: '#!/usr/bin/env node' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildCli();
  console.log(`built ${path.relative(root, outfile)}`);
}
