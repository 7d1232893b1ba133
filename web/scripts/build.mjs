// Builds the page into a folder (web/dist by default): index.html and style.css as they are, and the page
// and its training worker bundled by esbuild from the workspace's TypeScript sources.
//   node web/scripts/build.mjs [OUTDIR]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(webDir, 'src');

/** Where `pnpm web` builds the page. */
export const DEFAULT_OUT_DIR = path.join(webDir, 'dist');

/** The files a built page consists of (what the server may serve from the build folder). */
export const PAGE_FILES = ['index.html', 'style.css', 'main.js', 'worker.js'];

/**
 * Builds the page into `outDir` (emptied first) and returns the folder. `tinytape-source` makes the
 * @tinytape/* imports resolve to the packages' TypeScript sources, and the browser platform picks each
 * package's `#platform/*.browser.ts` modules, so no Node built-in reaches the bundle.
 */
export async function buildPage(outDir = DEFAULT_OUT_DIR, { minify = true } = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { main: path.join(srcDir, 'main.ts'), worker: path.join(srcDir, 'worker.ts') },
    outdir: outDir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // Chromium, Edge, Firefox and Safari versions that have module workers.
    target: ['chrome100', 'firefox114', 'safari16'],
    conditions: ['tinytape-source'],
    minify,
    sourcemap: false,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) copyFileSync(path.join(srcDir, file), path.join(outDir, file));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const out = await buildPage(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_OUT_DIR);
  console.log(`built the page into ${out} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
