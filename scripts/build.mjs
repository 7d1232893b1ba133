// `pnpm build`: each package to dist/ — ES modules bundled by esbuild, one per platform
// (dist/node/, dist/browser/), and .d.ts declarations written by tsc (dist/types/) — and the `tinytape`
// CLI (packages/rnn/dist/node/cli.js). Also `bundleForNode`, which the workspace's scripts use to run
// TypeScript sources (`pnpm train`, `pnpm bench`, the exercises) without a build.
//
// Why esbuild + tsc and no bundler on top: esbuild is already the project's bundler (CLI, page, scripts)
// and picks each platform's `#platform/*` modules by itself; tsc is what writes exact declarations. A
// tool such as tsup or tsdown would wrap the same two steps behind another dependency.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the workspace's own bundles of the sources go (git-ignored); `webgpu` resolves from root node_modules. */
export const devBundleDir = path.join(root, '.cache/bundles');
export const outfile = path.join(devBundleDir, 'tinytape.mjs');

/** Makes the workspace's @tinytape/* imports resolve to TypeScript sources (see the packages' exports). */
const SOURCE_CONDITION = 'tinytape-source';

/**
 * Bundles one TypeScript entry point of the workspace, sources included, into an ES module for Node 20
 * (with a source map). Packages in `external` are left to load from node_modules at run time — `webgpu`
 * always, being a native addon — so the bundle must be written where those resolve. The CLI, the
 * exercises and `pnpm bench` use it.
 */
export async function bundleForNode(entry, bundleFile, { external = ['webgpu'], banner } = {}) {
  await build({
    entryPoints: [entry],
    outfile: bundleFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: [SOURCE_CONDITION],
    sourcemap: true,
    external,
    ...(banner === undefined ? {} : { banner: { js: banner } }),
    logLevel: 'warning',
  });
  return bundleFile;
}

/** The CLI from sources, for `pnpm train` / `pnpm generate` in the workspace. */
export async function buildCli() {
  return bundleForNode(path.join(root, 'packages/rnn/src/cli/bin.ts'), outfile);
}

/** The packages in dependency order (declarations of each refer to those before it). */
export const PACKAGES = [
  { name: 'tensor', entries: ['index', 'testing'] },
  { name: 'data', entries: ['index'] },
  { name: 'autograd', entries: ['index'] },
  { name: 'rnn', entries: ['index'], nodeOnly: { cli: 'cli/bin' } },
];

/** Builds one package's dist/: node and browser bundles and declarations. */
export async function buildPackage({ name, entries, nodeOnly = {} }) {
  const dir = path.join(root, 'packages', name);
  rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  const common = {
    bundle: true,
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    // Other tinytape packages stay imports, so an app that uses several shares one engine (one tape,
    // one set of devices); `webgpu` is Dawn's native addon.
    external: ['@tinytape/*', 'webgpu'],
    logLevel: 'warning',
  };
  const points = Object.fromEntries(entries.map((e) => [e, path.join(dir, 'src', `${e}.ts`)]));
  const nodePoints = { ...points, ...Object.fromEntries(Object.entries(nodeOnly).map(([out, src]) => [out, path.join(dir, 'src', `${src}.ts`)])) };
  const results = [
    await build({ ...common, entryPoints: points, outdir: path.join(dir, 'dist/browser'), platform: 'browser' }),
    await build({ ...common, entryPoints: nodePoints, outdir: path.join(dir, 'dist/node'), platform: 'node', target: 'node20' }),
  ];
  // A warning here is a real fault (e.g. a module that registers something at import, dropped because
  // package.json's sideEffects leaves it out), so it fails the build.
  const warnings = results.reduce((n, r) => n + r.warnings.length, 0);
  if (warnings > 0) throw new Error(`@tinytape/${name}: esbuild reported ${warnings} warning(s) (above)`);
  writeDeclarations(dir);
  // The root LICENSE travels in each package's tarball (dist/ is in every package's `files`).
  copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'dist/LICENSE'));
}

/**
 * tsc's declarations of the package's sources, in dist/types. The sources import with `.ts` extensions
 * and choose platform modules through `#platform/*`, which the published package does not ship; both are
 * rewritten so the declarations resolve on their own (the Node variant's types stand for both, as the two
 * variants export the same signatures).
 */
function writeDeclarations(dir) {
  const config = path.join(dir, 'tsconfig.build.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: true,
        rootDir: 'src',
        outDir: 'dist/types',
        // Other packages' declarations come from their dist/types, built before this one.
        customConditions: ['node'],
      },
      include: ['src'],
      exclude: ['src/**/*.test.ts', 'src/testing/**', 'src/**/test-support.ts'],
    }),
  );
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', config], { stdio: 'inherit' });
  } finally {
    rmSync(config);
  }
  for (const file of walk(path.join(dir, 'dist/types'))) {
    const text = readFileSync(file, 'utf8');
    const depth = path.relative(path.join(dir, 'dist/types'), path.dirname(file)).split(path.sep).filter(Boolean).length;
    const up = depth === 0 ? './' : '../'.repeat(depth);
    const fixed = text
      .replace(/((?:from|import|module)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2')
      .replace(/(from\s+|import\s*\(?\s*)(['"])#platform\/([\w-]+)\2/g, `$1$2${up}platform/$3.node.js$2`);
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* walk(full);
    else if (full.endsWith('.d.ts')) yield full;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  for (const pkg of PACKAGES) {
    if (only.length > 0 && !only.includes(pkg.name)) continue;
    const started = performance.now();
    await buildPackage(pkg);
    console.log(`built @tinytape/${pkg.name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}
